/**
 * Drafting a constitution with a model: the local engine (the settings' teacher model, or a
 * given one) or the configured OpenAI-compatible endpoint. First the whole YAML in one reply;
 * when that does not validate (small models rarely manage it), per-section answers assembled
 * into the structure (personas/draft.ts). Either way the draft is validated before it is
 * returned, and nothing is saved: the user edits it first.
 */
import type { ConstitutionDraft } from '../../src-shared/character';
import type { ModelSpec } from '../../src-shared/engine-protocol';
import { ConfigError } from '../core/errors';
import { formatModelSpec } from '../core/model-spec';
import type { SettingsStore } from '../core/settings';
import type { EngineClient } from '../engine/client';
import { parsePersona } from './parse';
import {
  assembleConstitution,
  DRAFT_SECTIONS,
  extractYaml,
  fullDraftPrompt,
  isValidConstitution,
  sectionPrompts,
  withName,
  type DraftPrompt,
} from './draft';
import { OpenAIClient } from '../providers/openai-client';

/** New tokens of the whole-YAML reply and of each section's answer. */
const FULL_MAX_TOKENS = 700;
const SECTION_MAX_TOKENS = 120;
/** A little temperature: a draft should not be the model's most generic text. */
const DRAFT_TEMPERATURE = 0.7;

export interface DraftOptions {
  name: string;
  about: string;
  provider: 'local' | 'openai';
  /** Local provider: the model (default: the settings' teacher model). */
  model?: ModelSpec;
  seed?: number;
  signal?: AbortSignal;
  /** Called as each stage starts and when the draft is done (stage counts in DraftProgress). */
  progress?: (done: number, total: number, message: string) => void;
}

type Ask = (prompts: readonly DraftPrompt[], maxTokens: number) => Promise<string[]>;

function localAsk(engine: EngineClient, model: ModelSpec, seed: number, signal?: AbortSignal): Ask {
  return async (prompts, maxTokens) => {
    const result = await engine.call(
      'generate',
      {
        model,
        items: prompts.map((p) => ({
          system: p.system,
          messages: [{ role: 'user' as const, content: p.prompt }],
        })),
        sampling: {
          temperature: DRAFT_TEMPERATURE,
          top_p: 0.95,
          max_new_tokens: maxTokens,
          seed,
          repetition_penalty: 1.1,
        },
        batch_size: prompts.length,
        prefix_cache: false,
      },
      signal ? { signal } : {},
    );
    return result.outputs.map((o) => o.text);
  };
}

function endpointAsk(settings: SettingsStore, signal?: AbortSignal): { ask: Ask; model: string } {
  const endpoint = settings.get('openai');
  if (!endpoint?.baseUrl || !endpoint.model)
    throw new ConfigError(
      'no OpenAI-compatible endpoint configured ("openai" in settings.json): draft with the local engine instead',
      'openai',
    );
  const client = new OpenAIClient({
    baseUrl: endpoint.baseUrl,
    apiKey: endpoint.apiKey,
    name: 'draft',
    maxAttempts: 2,
  });
  const ask: Ask = async (prompts, maxTokens) =>
    Promise.all(
      prompts.map(async (p) => {
        const reply = await client.chat(
          {
            model: endpoint.model,
            messages: [
              { role: 'system', content: p.system },
              { role: 'user', content: p.prompt },
            ],
            temperature: DRAFT_TEMPERATURE,
            max_tokens: maxTokens,
          },
          signal ?? new AbortController().signal,
        );
        return reply.text;
      }),
    );
  return { ask, model: `${endpoint.model} at ${endpoint.baseUrl}` };
}

export async function draftConstitution(
  services: { engine: EngineClient; settings: SettingsStore },
  opts: DraftOptions,
): Promise<ConstitutionDraft> {
  const name = opts.name.trim();
  const about = opts.about.trim();
  if (!name) throw new ConfigError('a draft needs a name', 'name');
  if (!about) throw new ConfigError('a draft needs a few lines about the character (--about)', 'about');
  const local = opts.model ?? services.settings.get('teacherModel');
  const { ask, model } =
    opts.provider === 'openai'
      ? endpointAsk(services.settings, opts.signal)
      : {
          ask: localAsk(services.engine, local, opts.seed ?? 0, opts.signal),
          model: `local ${formatModelSpec(local)}`,
        };
  const notes: string[] = [];
  opts.progress?.(0, 2, `asking ${model} for the whole constitution (up to ${FULL_MAX_TOKENS} tokens)`);
  const [full = ''] = await ask([fullDraftPrompt(name, about)], FULL_MAX_TOKENS);
  const yamlText = extractYaml(full);
  let source: string;
  let raw = full;
  if (yamlText && isValidConstitution(withName(yamlText, name))) {
    source = `# Drafted by ${model}: read and edit it before saving.\n${withName(yamlText, name)}\n`;
    notes.push('the model wrote the whole constitution; it validates');
  } else {
    notes.push(
      yamlText
        ? 'the model’s YAML did not validate: the draft is assembled from its answers to one question per section'
        : 'the model wrote no YAML: the draft is assembled from its answers to one question per section',
    );
    const prompts = sectionPrompts(name, about);
    opts.progress?.(
      1,
      2,
      `its YAML did not validate: asking one question per section (${DRAFT_SECTIONS.length} x up to ${SECTION_MAX_TOKENS} tokens)`,
    );
    const answers = await ask(
      DRAFT_SECTIONS.map((s) => prompts[s]),
      SECTION_MAX_TOKENS,
    );
    const bySection = Object.fromEntries(DRAFT_SECTIONS.map((s, i) => [s, answers[i] ?? '']));
    raw = `${full}\n\n${DRAFT_SECTIONS.map((s) => `[${s}]\n${bySection[s]}`).join('\n\n')}`;
    source = assembleConstitution(name, about, bySection);
  }
  notes.push('a small model drafts poorly: edit the draft before saving it');
  opts.progress?.(2, 2, 'validating the draft');
  const { issues } = parsePersona(source, 'yaml');
  return { source, issues, raw, model, notes };
}
