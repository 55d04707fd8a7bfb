#!/usr/bin/env node
// The `character` CLI. The pipeline is TypeScript run through tsx, so no build step is needed
// for the CLI, the tests or the demo.
import { register } from 'tsx/esm/api';

register();
await import('../src-main/cli/index.ts');
