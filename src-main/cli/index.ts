/** Entry of `node bin/character.mjs ...` and `npm run character -- ...`. */
import { main } from './main';

const code = await main(process.argv.slice(2));
// Exit explicitly: a stray handle (a timer in a dependency) must not keep a finished CLI alive.
// stdout/stderr writes to pipes and files are synchronous on Linux, so nothing is lost.
process.exit(code);
