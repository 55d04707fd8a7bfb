import { describe, expect, it } from 'vitest';
import { loadBuiltInPersonas, parsePersona } from '../../../src-main/personas';
import {
  assembleConstitution,
  extractYaml,
  isValidConstitution,
  listLines,
  traitWords,
  withName,
} from '../../../src-main/personas/draft';
import { constitutionTraits } from '../../../src-main/evaluation/traits';
import { MemorySettingsStore } from '../../../src-main/core/settings';
import type { EngineClient } from '../../../src-main/engine/client';
import { draftConstitution } from '../../../src-main/personas/draft-constitution';

describe('drafting a constitution', () => {
  it('finds the YAML in a reply, fenced or not', () => {
    expect(extractYaml('Sure!\n```yaml\nmeta:\n  name: X\n```\nEnjoy')).toBe('meta:\n  name: X');
    expect(extractYaml('Here:\nmeta:\n  name: X\npersona: {}')).toBe('meta:\n  name: X\npersona: {}');
    expect(extractYaml('no yaml here')).toBeNull();
  });

  it('assembles a valid constitution even from a model that wrote nothing usable', () => {
    const source = assembleConstitution('Grace Hopper', 'Computer pioneer. Built the first compiler.', {
      identity: '<<< 123 >>>',
      personality: '{}',
      traits: '',
    });
    expect(isValidConstitution(source)).toBe(true);
    const p = parsePersona(source, 'yaml').persona!;
    expect(p.id).toBe('grace-hopper');
    expect(p.structured?.directives.personality).toEqual(['Computer pioneer.', 'Built the first compiler.']);
    expect(source.startsWith('# Drafted by a model')).toBe(true);
  });

  it('keeps what the model said, section by section', () => {
    const source = assembleConstitution('Ada', 'Mathematician.', {
      identity: 'You are Ada, a brilliant mathematician who sees poetry in numbers and engines.',
      personality: '1. Curious about every machine she meets\n- Warm with friends and sharp with fools\n- ok',
      speech_patterns: '* Speaks in long, elegant Victorian sentences',
      traits: 'Curious, witty and analytical.',
    });
    const p = parsePersona(source, 'yaml').persona!;
    expect(p.structured?.directives.personality).toEqual([
      'Curious about every machine she meets',
      'Warm with friends and sharp with fools',
    ]);
    expect(p.structured?.directives.speech_patterns).toEqual(['Speaks in long, elegant Victorian sentences']);
    expect(p.structured?.traits).toEqual(['curious', 'witty', 'analytical']);
    expect(p.systemPrompt).toContain('brilliant mathematician');
    expect(listLines('- a b\n- one two three', 5)).toEqual(['one two three']);
    expect(traitWords('the traits are: bold and kind')).toEqual(['bold', 'kind']);
    // issue 18 #10: a 135M model echoed the question; its words and stop-words are no traits
    expect(traitWords('These five words evoke Ludwig: stubborn, passionate, proud.', 6, ['Ludwig'])).toEqual([
      'stubborn',
      'passionate',
      'proud',
    ]);
    expect(withName('meta:\n  id: x\n  name: Someone', 'Ada Lovelace')).toBe(
      'meta:\n  id: ada-lovelace\n  name: "Ada Lovelace"',
    );
  });
});

describe('the persona gallery', () => {
  it('ships at least 8 personas, each validating and naming traits for revealed preferences', () => {
    const builtIns = loadBuiltInPersonas();
    expect(builtIns.length).toBeGreaterThanOrEqual(8);
    for (const b of builtIns) {
      const { issues, persona } = parsePersona(b.source, b.format, b.id);
      expect(issues, b.id).toEqual([]);
      const traits = constitutionTraits({
        source: b.source,
        format: b.format,
        systemPrompt: persona!.systemPrompt,
      });
      expect(traits.length, b.id).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('draft progress (issue 18 #10)', () => {
  it('reports each stage: the whole YAML, then one question per section, then done', async () => {
    const engine = {
      call: async (_method: string, params: { items: unknown[] }) => ({
        outputs: params.items.map(() => ({ text: 'No YAML here, sorry.' })),
      }),
    } as unknown as EngineClient;
    const stages: [number, number, string][] = [];
    await draftConstitution(
      { engine, settings: new MemorySettingsStore({ dataDir: '/tmp/x' }) },
      {
        name: 'Ada Lovelace',
        about: 'Mathematician.',
        provider: 'local',
        progress: (done, total, message) => stages.push([done, total, message]),
      },
    );
    expect(stages.map(([d, t]) => [d, t])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    expect(stages[0]?.[2]).toContain('the whole constitution');
    expect(stages[1]?.[2]).toContain('one question per section');
  });
});
