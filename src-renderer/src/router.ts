import { useSyncExternalStore } from 'react';

/** The app's pages, in navigation order; the hash is "#/<name>". */
export const ROUTES = [
  { name: 'wizard', label: 'Wizard' },
  { name: 'personas', label: 'Personas' },
  { name: 'data', label: 'Data' },
  { name: 'training', label: 'Training' },
  { name: 'evaluation', label: 'Evaluation' },
  { name: 'review', label: 'Review' },
  { name: 'chat', label: 'Chat' },
  { name: 'checkpoints', label: 'Checkpoints' },
] as const;

export type RouteName = (typeof ROUTES)[number]['name'];

const DEFAULT_ROUTE: RouteName = 'wizard';

/** The route named by a location hash ("#/training" -> "training"); unknown hashes go to the Wizard. */
export function parseHash(hash: string): RouteName {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return ROUTES.some((r) => r.name === name) ? (name as RouteName) : DEFAULT_ROUTE;
}

export function hrefFor(route: RouteName): string {
  return `#/${route}`;
}

export function navigate(route: RouteName): void {
  window.location.hash = hrefFor(route);
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current route, re-rendering on hashchange (a router of our own: one listener, no library). */
export function useRoute(): RouteName {
  return useSyncExternalStore(
    subscribe,
    () => parseHash(window.location.hash),
    () => DEFAULT_ROUTE,
  );
}
