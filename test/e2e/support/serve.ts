/**
 * The E2E server: the real studio (store, engine, runner) and real handlers behind the
 * loopback bridge, on the data folder named by CHARACTER_STUDIO_HOME. Prints one line,
 * "STUDIO_URL <url>", once it listens; SIGTERM closes the studio (and the engine) cleanly.
 * Run with: node --import tsx test/e2e/support/serve.ts
 */
import { serveApp } from '../../../src-main/bridge/serve';

const app = await serveApp({ build: false });
process.stdout.write(`STUDIO_URL ${app.url}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
