// Test only: preloaded (node --import) into the CLI under test. Holds every pipeline step for
// RELIABILITY_PAUSE_MS ms at its start, right after the runner has stored the step as running
// and logged "step X started", so a test can kill the process inside every step, even the
// ones that take milliseconds. Nothing of the app changes: this wraps fs.appendFileSync.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const pauseMs = Number(process.env.RELIABILITY_PAUSE_MS ?? '0');
if (pauseMs > 0) {
  const append = fs.appendFileSync;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  fs.appendFileSync = function appendFileSync(file, data, ...rest) {
    const result = append.call(this, file, data, ...rest);
    if (String(file).endsWith('run.log') && / step \w+ started\n$/.test(String(data))) {
      Atomics.wait(cell, 0, 0, pauseMs);
    }
    return result;
  };
  syncBuiltinESMExports();
}
