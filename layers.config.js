/**
 * The layers of src-main, bottom first: a folder imports only folders in tiers below its own
 * (never a folder above it, never a neighbour in its own tier). eslint.config.js turns this table
 * into no-restricted-imports rules, so a wrong import fails `npm run lint` with the tier's reason;
 * README "Layout" draws the same picture.
 */
export const LAYERS = [
  {
    folders: ['core'],
    reason:
      'core is the bottom layer (errors, events, settings, RunConfig) that every other layer uses; it imports nothing of ours but src-shared',
  },
  {
    folders: ['store', 'engine'],
    reason:
      'the database and the engine client are the two services everything else uses; they import only core so either opens alone (tests, doctor, CLI)',
  },
  {
    folders: ['providers'],
    reason: 'teacher providers sit on the engine client and core only',
  },
  {
    folders: ['personas'],
    reason:
      'constitutions are read and drafted with the store, engine and providers, never with features above',
  },
  {
    folders: ['questions'],
    reason: 'question sets build on personas and providers only',
  },
  {
    folders: ['datasets'],
    reason:
      'datasets (audit, split, markers, files) build on questions and below, never on what measures them',
  },
  {
    folders: ['evaluation'],
    reason: 'evaluation measures a run from its data and the engine; it never knows the features built on it',
  },
  {
    folders: ['robustness', 'savings', 'registry', 'review'],
    reason:
      'each of these measures or keeps one thing a run produces from evaluation and below; they stay independent of each other',
  },
  {
    folders: ['reports', 'chat'],
    reason: 'reports and chat read what the run produced; the run engine uses them, not the other way',
  },
  {
    folders: ['pipeline'],
    reason:
      'pipeline/ is the run engine: it takes the studio as an interface (pipeline/services.ts) and never imports the modules that create runs, check the data folder or serve requests',
  },
  {
    folders: ['runs', 'doctor'],
    reason:
      'creating and configuring runs, and checking the data folder, are called by the studio, handlers and CLI; they never import them',
  },
  {
    folders: ['studio'],
    reason: 'the studio assembles the services once and passes them down; only the entry points import it',
  },
  {
    folders: ['handlers'],
    reason: 'handlers are one function per contract channel; the servers and shells call them',
  },
  {
    folders: ['bridge'],
    reason: 'the loopback HTTP server sits on the handlers; only the CLI and the Electron shell start it',
  },
  {
    folders: ['cli', 'electron'],
    reason: 'the CLI and the Electron shell are the two entry points; neither imports the other',
  },
];

/** Inside a folder: the pipeline's steps are below its recipes (a recipe composes steps). */
export const INNER_LAYERS = [
  {
    files: 'src-main/pipeline/steps',
    forbidden: ['recipes'],
    reason:
      'a step is shared by the recipes, so it never imports one; move what both need down (e.g. evaluation/stage-checkpoints.ts)',
  },
];
