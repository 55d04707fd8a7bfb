/** The CLI's argument conventions: global flags anywhere, strict per-command flags (node:util parseArgs). */
import { parseArgs } from 'node:util';
import { CliUsageError } from './context';
import { errorText } from '../core/errors';

/** Pulls the global flags out wherever they appear; the rest goes to the command. */
export function splitGlobal(argv: string[]): {
  json: boolean;
  verbose: boolean;
  help: boolean;
  rest: string[];
} {
  let json = false;
  let verbose = false;
  let help = false;
  const rest: string[] = [];
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a === '--verbose' || a === '-v') verbose = true;
    else if (a === '--help' || a === '-h') help = true;
    else rest.push(a);
  }
  return { json, verbose, help, rest };
}

/** parseArgs with the CLI's conventions: strict, positionals allowed, usage errors typed. */
export function parseCommandArgs<
  T extends Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }
  >,
>(
  command: string,
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  // "--max-steps -1": node's parseArgs reads "-1" as an option; a value that looks like a
  // negative number after a string option is that option's value.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const next = args[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : null;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${a}=${next}`);
      i += 1;
    } else joined.push(a);
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliUsageError(`${command}: ${errorText(error)}`, command);
  }
}
