import { useEffect, type JSX } from 'react';
import { AppInfo } from './components/AppInfo';
import { RunPicker } from './components/RunPicker';
import { CheckpointsPage } from './pages/CheckpointsPage';
import { ChatPage } from './pages/ChatPage';
import { DataPage } from './pages/DataPage';
import { EvaluationPage } from './pages/EvaluationPage';
import { PersonasPage } from './pages/PersonasPage';
import { ReviewPage } from './pages/ReviewPage';
import { TrainingPage } from './pages/TrainingPage';
import { WizardPage } from './pages/WizardPage';
import { hrefFor, ROUTES, useRoute, type RouteName } from './router';
import { connectEvents } from './stores/events';

const PAGES: Record<RouteName, () => JSX.Element> = {
  wizard: WizardPage,
  personas: PersonasPage,
  data: DataPage,
  training: TrainingPage,
  evaluation: EvaluationPage,
  review: ReviewPage,
  chat: ChatPage,
  checkpoints: CheckpointsPage,
};

export function App(): JSX.Element {
  const route = useRoute();
  useEffect(() => connectEvents(), []);
  const Page = PAGES[route];
  return (
    <div className="app">
      {/* A button, not href="#main": the hash is the router's. */}
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <nav className="sidebar" aria-label="Main">
        <h1 className="brand">Character Studio</h1>
        <ul>
          {ROUTES.map((r) => (
            <li key={r.name}>
              <a
                href={hrefFor(r.name)}
                data-testid={`nav-${r.name}`}
                aria-current={route === r.name ? 'page' : undefined}
              >
                {r.label}
              </a>
            </li>
          ))}
        </ul>
        <AppInfo />
      </nav>
      <div className="content">
        <header className="topbar">
          <RunPicker />
        </header>
        <main id="main" tabIndex={-1} data-testid={`page-${route}`}>
          <Page />
        </main>
      </div>
    </div>
  );
}
