/**
 * The few browser shapes the specs touch inside page.evaluate. The Node tsconfig that checks
 * these files has no DOM library (adding it would change how everyone's Node code type-checks),
 * so callbacks cast globalThis to this instead.
 */
export interface ImageDataLike {
  data: ArrayLike<number>;
}

export interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): ImageDataLike } | null;
}

export interface ControlLike {
  outerHTML: string;
  tagName: string;
  type?: string;
  labels: { length: number } | null;
  getAttribute(name: string): string | null;
}

export interface BrowserGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<ControlLike>;
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    getElementById(id: string): { textContent: string | null } | null;
  };
  localStorage: { length: number; key(index: number): string | null; getItem(key: string): string | null };
  location: { href: string; origin: string };
  EventSource: new (url: string) => { addEventListener(type: string, listener: () => void): void };
  /** chat:token events counted by the chat spec. */
  __tokens?: number;
}
