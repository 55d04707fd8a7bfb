/**
 * `character constitution list | show <id> | validate <file> | save <file> [--new-version]
 * | draft NAME --about "..." [--provider local|openai] [--model M] [--out FILE]`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  PersonaError,
  countPromptTokens,
  validatePersona,
  wordCount,
  parsePersona,
  type PersonaFormat,
} from '../../personas';
import { parseModelSpec } from '../../core/model-spec';
import { FileReadError, readUserTextFile } from '../../core/text-file';
import { draftConstitution } from '../../personas/draft-constitution';
import { CliUsageError, type CliContext, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';
import { MAX_VERSION } from '../../core/limits';
import { numberFlag } from '../number-flag';

export const constitutionCommand: CommandFn = async (args, ctx) => {
  const { positionals, values } = parseCommandArgs('constitution', args, {
    version: { type: 'string' },
    format: { type: 'string' },
    'new-version': { type: 'boolean' },
    about: { type: 'string' },
    provider: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  const [sub, target] = positionals;
  const formatOf = (file: string): PersonaFormat =>
    (values.format as PersonaFormat | undefined) ??
    (extname(file).toLowerCase() === '.txt' ? 'text' : 'yaml');
  if (sub === 'validate') {
    if (!target) throw new CliUsageError('constitution validate: give a file (.yaml, .yml or .txt)');
    const source = readConstitution(target);
    const format = formatOf(target);
    const issues = validatePersona(source, format);
    const parsed = parsePersona(source, format).persona;
    const words = parsed ? wordCount(parsed.systemPrompt) : 0;
    ctx.result({ file: target, format, valid: issues.length === 0, issues, wordCount: words });
    if (issues.length === 0)
      ctx.print(`${target}: valid ${format} constitution, ${words} words in the system prompt`);
    for (const i of issues)
      ctx.print(`${target}:${i.line ?? '?'}: ${i.field ? `${i.field}: ` : ''}${i.message}`);
    return issues.length === 0 ? 0 : 1;
  }
  if (sub === 'draft') return draftCommand(positionals.slice(1).join(' '), values, ctx);
  const studio = await ctx.open();
  const lib = studio.personas;
  if (sub === 'list' || sub === undefined) {
    const list = lib.list();
    ctx.result(list);
    for (const p of list)
      ctx.print(
        `${p.id.padEnd(18)} v${p.version}  ${p.format.padEnd(4)} ${String(p.wordCount).padStart(4)} words  ${p.builtIn ? 'built-in ' : 'user     '} ${p.description}`,
      );
    return 0;
  }
  if (sub === 'save') {
    if (!target) throw new CliUsageError('constitution save: give a file (.yaml, .yml or .txt)');
    const saved = lib.save(readConstitution(target), formatOf(target), undefined, {
      newVersionOfBuiltIn: values['new-version'] === true,
    });
    ctx.result(saved);
    ctx.print(
      `saved ${saved.id} v${saved.version} (${saved.wordCount} words): character pipeline ${saved.id}`,
    );
    return 0;
  }
  if (sub === 'show') {
    if (!target)
      throw new CliUsageError('constitution show: name a persona id (see character constitution list)');
    const version =
      values.version !== undefined
        ? numberFlag('constitution show', 'version', values.version, {
            min: 1,
            max: MAX_VERSION,
            integer: true,
          })
        : undefined;
    const p = lib.get(target, version);
    let tokens: number | null = null;
    try {
      tokens = await countPromptTokens(
        p.systemPrompt,
        async (texts) =>
          (await studio.engine.call('count_tokens', { model: studio.settings.get('studentModel'), texts }))
            .counts,
      );
    } catch {
      tokens = null;
    }
    ctx.result({ ...p, tokenCount: tokens });
    ctx.print(
      `# ${p.name} (${p.id} v${p.version}, ${p.wordCount} words${tokens !== null ? `, ${tokens} tokens` : ''})`,
    );
    ctx.print(`keywords: ${p.keywords.join(', ')}`);
    ctx.print('');
    ctx.print(p.systemPrompt);
    return 0;
  }
  throw new CliUsageError(
    `constitution: unknown subcommand "${sub}": use list, show <id>, validate <file>, save <file> or draft NAME --about "..."`,
  );
};

function readConstitution(file: string): string {
  try {
    return readUserTextFile(file, 'constitution').text;
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    const code = (error.detail as { systemCode?: string }).systemCode;
    throw new PersonaError(
      error.message.replace(/^cannot/, 'Cannot'),
      [],
      { path: file, systemCode: code },
      code === 'ENOENT' ? 'not_found' : 'io',
    );
  }
}

/** A model drafts a structured constitution from a name and a few lines; it is validated, printed or written, never saved. */
async function draftCommand(
  name: string,
  values: { about?: string; provider?: string; model?: string; out?: string; force?: boolean },
  ctx: CliContext,
): Promise<number> {
  if (!name.trim())
    throw new CliUsageError(
      'constitution draft: name the character, e.g. draft "Ada Lovelace" --about "..."',
    );
  if (!values.about?.trim())
    throw new CliUsageError('constitution draft: say who they are in a few lines with --about "..."');
  const provider = values.provider ?? 'local';
  if (provider !== 'local' && provider !== 'openai')
    throw new CliUsageError(`constitution draft: --provider must be local or openai (got "${provider}")`);
  if (values.out && existsSync(values.out) && !values.force)
    throw new CliUsageError(`constitution draft: ${values.out} exists (add --force to replace it)`);
  const studio = await ctx.open();
  ctx.note(
    `drafting a constitution for ${name} with the ${provider === 'local' ? 'local engine' : 'endpoint'}…`,
  );
  const draft = await draftConstitution(studio, {
    name,
    about: values.about,
    provider,
    ...(values.model ? { model: parseModelSpec(values.model) } : {}),
    signal: ctx.abort.signal,
  });
  ctx.result(draft);
  for (const note of draft.notes) ctx.note(note);
  if (values.out) {
    writeFileSync(values.out, draft.source);
    ctx.print(
      `${values.out}: drafted by ${draft.model}, ${draft.issues.length === 0 ? 'valid' : `${draft.issues.length} problem(s)`}; edit it, then: character constitution save ${values.out}`,
    );
  } else ctx.print(draft.source);
  for (const i of draft.issues)
    ctx.note(`line ${i.line ?? '?'}: ${i.field ? `${i.field}: ` : ''}${i.message}`);
  return draft.issues.length === 0 ? 0 : 1;
}
