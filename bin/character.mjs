#!/usr/bin/env node
// The `character` CLI. The pipeline is TypeScript run through tsx, so no build step is needed
// for the CLI, the tests or the demo.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  // better-sqlite3 13 would crash on open (it needs Node 22+): say so before anything starts.
  process.stderr.write(
    `character: Node ${process.versions.node} is older than 22.12, the floor of this app (Electron 41's). ` +
      'Run it as `npm run character -- <command>` (which uses Node 24 from .node/, fetched by ' +
      '`npm run setup` when needed) or install Node 22.12 or newer.\n',
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import('../src-main/cli/index.ts');
