/**
 * `character train <run> --config training_config.yaml`: the file datasets/files.ts writes
 * (trainingConfigYaml), read strictly. Every key must be one that file has, in its section; a
 * value must have its type (a quoted "8" is text, not a number). Errors name the file's line and
 * the field, so a key at the wrong level (a flat `learning_rate: -1`) fails instead of the
 * defaults training silently. Ranges are checked after, with the run's configuration
 * (validateTrainingConfig).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { TrainingConfig } from '../../src-shared/contract';
import { ConfigError } from '../core/errors';
import { describeValue } from '../core/validate';

type Kind = 'number' | 'int' | 'text' | 'texts';
/** A key that sets a TrainingConfig field, or one the file carries for the reader's information. */
type Key = { field: keyof TrainingConfig; kind: Kind } | { info: Kind };

const SECTIONS: Record<string, Record<string, Key>> = {
  model: {
    base_model: { field: 'baseModel', kind: 'text' },
    lora_rank: { field: 'loraR', kind: 'int' },
    lora_alpha: { field: 'loraAlpha', kind: 'number' },
    lora_dropout: { field: 'loraDropout', kind: 'number' },
    target_modules: { field: 'targetModules', kind: 'texts' },
  },
  training: {
    objective: { field: 'objective', kind: 'text' },
    kd_weight: { field: 'kdWeight', kind: 'number' },
    learning_rate: { field: 'learningRate', kind: 'number' },
    schedule: { field: 'schedule', kind: 'text' },
    warmup_steps: { field: 'warmupSteps', kind: 'int' },
    batch_size: { field: 'batchSize', kind: 'int' },
    gradient_accumulation_steps: { field: 'gradAccum', kind: 'int' },
    max_steps: { field: 'maxSteps', kind: 'int' },
    seed: { field: 'seed', kind: 'int' },
    loss: { info: 'text' },
  },
  data: {
    // The run's own train/val files are used; these say which they were.
    train_file: { info: 'text' },
    val_file: { info: 'text' },
    max_seq_length: { field: 'maxLength', kind: 'int' },
    system_prompt: { info: 'text' },
  },
  checkpointing: {
    save_every: { field: 'saveEvery', kind: 'int' },
    eval_every: { field: 'evalEvery', kind: 'int' },
    output_dir: { info: 'text' },
  },
};

const KIND_TEXT: Record<Kind, string> = {
  number: 'a number',
  int: 'a whole number',
  text: 'text',
  texts: 'a list of text',
};

function valueOk(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'text':
      return typeof v === 'string' || typeof v === 'boolean';
    case 'texts':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
  }
}

/** What a wrong value is, with the hint a quoted number needs. */
function whatItIs(kind: Kind, v: unknown): string {
  const quotedNumber =
    (kind === 'number' || kind === 'int') &&
    typeof v === 'string' &&
    v.trim() !== '' &&
    Number.isFinite(Number(v));
  return `${describeValue(v)}${quotedNumber ? ' (quoted, so YAML reads it as text: remove the quotes)' : ''}`;
}

/** The section a misplaced key belongs to, for the message ("did you mean training.learning_rate?"). */
function homeOf(key: string): string | null {
  for (const [section, keys] of Object.entries(SECTIONS)) if (key in keys) return `${section}.${key}`;
  return null;
}

/**
 * The TrainingConfig fields a training_config.yaml sets. `source` names the file in messages.
 * Throws ConfigError("<file>:<line>: <field> ...") on syntax errors, unknown or misplaced keys,
 * and values of the wrong type.
 */
export function trainingOverridesFromYaml(
  text: string,
  source = 'training_config.yaml',
): Partial<TrainingConfig> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number => {
    const start = node?.range?.[0];
    return start === undefined ? 1 : lines.linePos(start).line;
  };
  const fail = (node: Node | null | undefined, field: string, message: string): never => {
    throw new ConfigError(`${source}:${lineOf(node)}: ${field} ${message}`, field, {
      path: source,
      line: lineOf(node),
    });
  };
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ConfigError(`${source}:${line}: YAML syntax error: ${syntax.message.split('\n')[0]}`, 'yaml', {
      path: source,
      line,
    });
  }
  const out: Partial<TrainingConfig> = {};
  const root = doc.contents;
  // An empty file trains nothing new: it was meant to say something (a save that failed, the
  // wrong file), and retraining with the run's settings unchanged is not what was asked.
  if (root === null || (isScalar(root) && (root.value === null || root.value === '')))
    fail(
      root,
      '(file)',
      `is empty: it sets no training setting (sections: ${Object.keys(SECTIONS).join(', ')}); leave --config out to train with the run's configuration`,
    );
  if (!isMap(root))
    return fail(root, '(top level)', `must be a mapping of ${Object.keys(SECTIONS).join(', ')}`);
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const section = isScalar(keyNode) ? String(keyNode.value) : '';
    const keys = SECTIONS[section];
    if (!keys) {
      const home = homeOf(section);
      fail(
        keyNode,
        section,
        `is not a section of a training configuration (sections: ${Object.keys(SECTIONS).join(', ')})${home ? `; did you mean ${home}?` : ''}`,
      );
    }
    const body = pair.value as Node | null;
    if (body === null || (isScalar(body) && body.value === null)) continue;
    if (!isMap(body)) fail(body ?? keyNode, section, `must be a mapping of ${Object.keys(keys!).join(', ')}`);
    for (const item of (body as unknown as { items: { key: unknown; value: unknown }[] }).items) {
      const kNode = item.key as Node | null;
      const name = isScalar(kNode) ? String(kNode.value) : '';
      const field = `${section}.${name}`;
      const spec = keys![name];
      if (!spec) {
        const home = homeOf(name);
        fail(
          kNode,
          field,
          `is not a known setting (${section} has ${Object.keys(keys!).join(', ')})${home ? `; did you mean ${home}?` : ''}`,
        );
      }
      const vNode = item.value as Node | null;
      const value: unknown =
        vNode === null
          ? null
          : isSeq(vNode) || isMap(vNode)
            ? vNode.toJSON()
            : isScalar(vNode)
              ? vNode.value
              : null;
      const kind = 'info' in spec! ? spec.info : spec!.kind;
      if (!valueOk(kind, value))
        fail(vNode ?? kNode, field, `must be ${KIND_TEXT[kind]}, not ${whatItIs(kind, value)}`);
      if ('field' in spec!)
        (out as Record<string, unknown>)[spec.field] = kind === 'text' ? String(value) : value;
    }
  }
  if (Object.keys(out).length === 0)
    fail(
      root,
      '(file)',
      "sets no training setting (only empty sections or informational keys): leave --config out to train with the run's configuration",
    );
  return out;
}
