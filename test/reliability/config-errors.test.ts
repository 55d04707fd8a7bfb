/**
 * Items 11 and 12: configuration files that are wrong say where. A training_config.yaml key at
 * the wrong level (a flat `learning_rate: -1`) used to be ignored, the defaults training; a
 * quoted "8" was reported as (got 8). A persona YAML with an unclosed quote was reported at the
 * end of the file (line 5 of 4) with no field.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src-main/core/errors';
import { trainingOverridesFromYaml } from '../../src-main/cli/commands/pipeline';
import { validatePersona } from '../../src-main/personas/parse';

function configError(text: string): ConfigError {
  try {
    trainingOverridesFromYaml(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no error for:\n${text}`);
}

describe('train --config (training_config.yaml)', () => {
  it('rejects a key at the wrong level with its line, and says where it belongs', () => {
    const e = configError('model:\n  lora_rank: 8\nlearning_rate: -1\n');
    expect(e.message).toMatch(/:3: learning_rate /);
    expect(e.message).toMatch(/did you mean training\.learning_rate/);
    // At its level, the same key is read.
    expect(trainingOverridesFromYaml('model:\n  lora_rank: 8\ntraining:\n  learning_rate: 0.0003\n')).toEqual(
      {
        loraR: 8,
        learningRate: 0.0003,
      },
    );
  });

  it('rejects an unknown key inside a section with its line', () => {
    const e = configError('training:\n  max_steps: 5\n  learning_rat: 0.001\n');
    expect(e.message).toMatch(/:3: training\.learning_rat is not a known setting/);
    expect(e.field).toBe('training.learning_rat');
  });

  it('says the type of a quoted number', () => {
    const e = configError('model:\n  lora_rank: "8"\n');
    expect(e.message).toMatch(/:2: model\.lora_rank must be a whole number, not the text "8"/);
    expect(e.message).toMatch(/quoted/);
  });
});

describe('persona YAML', () => {
  it('reports an unclosed quote at the line where it opened, with the field', () => {
    const source = 'meta:\n  name: "Ada Lovelace\npersona:\n  identity: a mathematician\n';
    const issues = validatePersona(source, 'yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 2, field: 'meta.name' });
    expect(issues[0]?.message).toMatch(/quote opened here is never closed/);
  });

  it('names a list item by its index', () => {
    const source = "meta:\n  name: Ada\ndirectives:\n  personality:\n    - curious\n    - 'precise\n";
    expect(validatePersona(source, 'yaml')[0]).toMatchObject({ line: 6, field: 'directives.personality[1]' });
  });
});
