import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src-main/store';
import {
  countPromptTokens,
  deriveKeywords,
  loadBuiltInPersonas,
  parsePersona,
  PersonaError,
  personaLibrary,
  renderSystemPrompt,
  syncBuiltInPersonas,
  validatePersona,
  wordCount,
} from '../../../src-main/personas';

const PIRATE = `meta:
  name: pirate
  version: 1
  description: A bold, free-roaming pirate

persona:
  identity: |
    I speak as a bold, free-roaming pirate with a clever, irreverent edge.

directives:
  personality:
    - I treat the user as captain or trusted crew
    - My baseline mood is rowdy optimism
  behavior:
    - I stay in character throughout conversations
  constraints:
    - I reframe tasks as adventures or quests

safety:
  refusals:
    - I refuse harmful or unethical requests

signoffs:
  - "Fair winds, matey!"
`;

describe('parsePersona (yaml)', () => {
  it('parses the Open Character Studio layout and renders a system prompt', () => {
    const { persona, issues } = parsePersona(PIRATE, 'yaml');
    expect(issues).toEqual([]);
    expect(persona?.id).toBe('pirate');
    expect(persona?.structured?.directives.personality).toHaveLength(2);
    const prompt = persona!.systemPrompt;
    expect(prompt.startsWith('I speak as a bold')).toBe(true);
    expect(prompt).toContain('Personality:\n- I treat the user as captain or trusted crew');
    expect(prompt).toContain('Constraints:\n- I reframe tasks');
    expect(prompt).toContain('Safety:\n- I refuse harmful');
    expect(prompt).toContain('"Fair winds, matey!"');
    // No keywords list: derived from the text, name first.
    expect(persona!.keywords[0]).toBe('pirate');
  });

  it('reports a YAML syntax error with its line', () => {
    const src = 'meta:\n  name: x\n  version: [1\npersona:\n  identity: hi\n';
    const issues = validatePersona(src, 'yaml');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.message).toMatch(/YAML syntax error/);
    expect(issues[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports each invalid field with its line and dotted path', () => {
    const src = [
      'meta:', // 1
      '  version: zero', // 2
      'persona:', // 3
      '  identity: ""', // 4
      'directives:', // 5
      '  personality:', // 6
      '    - fine', // 7
      '    - {bad: map}', // 8
      '  behavior: not a list', // 9
      'signofs:', // 10
      '  - typo', // 11
    ].join('\n');
    const issues = validatePersona(src, 'yaml');
    const byField = new Map(issues.map((i) => [i.field, i]));
    expect(byField.get('meta.name')?.line).toBe(1);
    expect(byField.get('meta.version')?.line).toBe(2);
    expect(byField.get('persona.identity')?.line).toBe(4);
    expect(byField.get('directives.personality[1]')?.line).toBe(8);
    expect(byField.get('directives.behavior')?.line).toBe(9);
    expect(byField.get('signofs')?.line).toBe(10);
    expect(byField.get('signofs')?.message).toMatch(/Unknown field/);
  });

  it('shows in-character examples to the teacher, at the end of its prompt, and checks them', () => {
    const src = `${PIRATE}examples:\n  - question: Who are you?\n    answer: Captain Jack, terror of the seven seas!\n`;
    const { persona, issues } = parsePersona(src, 'yaml');
    expect(issues).toEqual([]);
    expect(persona?.structured?.examples).toEqual([
      { question: 'Who are you?', answer: 'Captain Jack, terror of the seven seas!' },
    ]);
    expect(
      persona!.systemPrompt.endsWith('Q: Who are you?\nA: Captain Jack, terror of the seven seas!'),
    ).toBe(true);
    const bad = `${PIRATE}examples:\n  - question: Only a question\n  - just text\n  - question: Q\n    answer: A\n    tone: x\n`;
    const byField = new Map(validatePersona(bad, 'yaml').map((i) => [i.field, i]));
    expect(byField.get('examples[0].answer')?.message).toMatch(/Missing required field/);
    // PIRATE ends with a newline: its last line is N, examples: is N+1, the bad entry N+3.
    expect(byField.get('examples[1]')?.line).toBe(PIRATE.split('\n').length + 2);
    expect(byField.get('examples[2].tone')?.message).toMatch(/Unknown field/);
  });

  it('rejects a document that is not a mapping, and missing sections', () => {
    expect(validatePersona('- just\n- a list\n', 'yaml')[0]?.message).toMatch(/mapping/);
    const fields = validatePersona('meta:\n  name: X\n', 'yaml').map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['persona', 'directives']));
  });
});

describe('parsePersona (text)', () => {
  it('takes the name from a "# Name" header, keywords from a Keywords line, and the body as prompt', () => {
    const src = `# Captain Nemo\nYou are Captain Nemo of the Nautilus, an engineer and exile who roams the oceans beneath the waves, scornful of empires and tender toward the oppressed.\nKeywords: Nautilus, ocean, submarine`;
    const { persona, issues } = parsePersona(src, 'text');
    expect(issues).toEqual([]);
    expect(persona?.id).toBe('captain-nemo');
    expect(persona?.name).toBe('Captain Nemo');
    expect(persona?.systemPrompt.startsWith('You are Captain Nemo')).toBe(true);
    expect(persona?.systemPrompt).not.toContain('Keywords');
    expect(persona?.keywords).toEqual(['Nautilus', 'ocean', 'submarine']);
  });

  it('rejects a text too short to be a persona', () => {
    const issues = validatePersona('You are a cat.', 'text');
    expect(issues[0]).toMatchObject({ line: 1 });
    expect(issues[0]?.message).toMatch(/at least/);
  });
});

describe('built-in personas', () => {
  const builtIns = loadBuiltInPersonas();

  it('ships Beethoven and at least five more, at least one in plain text', () => {
    const ids = builtIns.map((b) => b.id);
    expect(ids).toContain('beethoven');
    expect(ids.length).toBeGreaterThanOrEqual(6);
    expect(builtIns.some((b) => b.format === 'text')).toBe(true);
  });

  it("renders Beethoven's system prompt at 450-600 words, covering his life and the guidelines", () => {
    const b = builtIns.find((x) => x.id === 'beethoven')!;
    const prompt = b.parsed.systemPrompt;
    const words = wordCount(prompt);
    expect(words).toBeGreaterThanOrEqual(450);
    expect(words).toBeLessThanOrEqual(600);
    for (const term of [
      '1770',
      'Bonn',
      'Vienna',
      'Haydn',
      'Lichnowsky',
      'Archduke Rudolph',
      'Razumovsky',
      'Waldstein',
      'Heiligenstadt',
      '1802',
      'Eroica',
      'Napoleon',
      'Fidelio',
      'Ninth Symphony',
      '1824',
      'Karl',
      'conversation books',
      'deaf',
      'first person',
      '1827',
      'Refuse harmful',
    ]) {
      expect(prompt, term).toContain(term);
    }
    expect(b.parsed.keywords).toEqual(
      expect.arrayContaining(['music', 'symphony', 'Vienna', 'Haydn', 'deaf']),
    );
  });

  it('renders deterministically', () => {
    const b = builtIns.find((x) => x.id === 'beethoven')!;
    expect(renderSystemPrompt(b.parsed.structured!)).toBe(b.parsed.systemPrompt);
  });
});

describe('persona library over the store', () => {
  it('lists built-ins, versions edits, and keeps old versions readable', () => {
    const store = openStore(':memory:');
    const lib = personaLibrary(store);
    const list = lib.list();
    expect(list.find((p) => p.id === 'beethoven')).toMatchObject({
      version: 1,
      builtIn: true,
      format: 'yaml',
    });
    // Re-opening the library does not bump versions of unchanged built-ins.
    expect(personaLibrary(store).get('beethoven').version).toBe(1);

    // Saving over a built-in's id is refused until the user says it is meant.
    expect(() => lib.save(PIRATE.replace('rowdy optimism', 'gruff cheer'), 'yaml')).toThrow(
      expect.objectContaining({ code: 'conflict', detail: { id: 'pirate', builtIn: true } }),
    );
    expect(lib.get('pirate').version).toBe(1);
    const meant = { newVersionOfBuiltIn: true };
    const saved = lib.save(PIRATE.replace('rowdy optimism', 'gruff cheer'), 'yaml', undefined, meant);
    expect(saved.id).toBe('pirate');
    expect(saved.version).toBe(2); // the built-in pirate was version 1
    expect(lib.get('pirate').systemPrompt).toContain('gruff cheer');
    expect(lib.get('pirate', 1).systemPrompt).not.toContain('gruff cheer');
    expect(lib.save(PIRATE.replace('rowdy optimism', 'gruff cheer'), 'yaml', undefined, meant).version).toBe(
      2,
    );
    // A restart does not overwrite the user's edit of a built-in with the shipped text...
    expect(personaLibrary(store).get('pirate').version).toBe(2);
    // ...but a changed shipped file is stored as a new version.
    const shipped = loadBuiltInPersonas().map((b) =>
      b.id === 'pirate' ? { ...b, source: b.source.replace('rowdy optimism', 'salty optimism') } : b,
    );
    expect(syncBuiltInPersonas(store, shipped)).toEqual(['pirate']);
    expect(lib.get('pirate').version).toBe(3);
  });

  it('refuses to save an invalid persona, carrying the issues', () => {
    const lib = personaLibrary(openStore(':memory:'));
    let caught: unknown;
    try {
      lib.save('meta:\n  name: [oops\n', 'yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PersonaError);
    expect((caught as PersonaError).issues[0]?.line).not.toBeNull();
    expect(() => lib.get('nobody')).toThrow(PersonaError);
  });
});

describe('helpers', () => {
  it('counts prompt tokens through the given counter', async () => {
    const calls: string[][] = [];
    const n = await countPromptTokens('a b c', async (texts) => {
      calls.push(texts);
      return texts.map((t) => t.length);
    });
    expect(n).toBe(5);
    expect(calls).toEqual([['a b c']]);
  });

  it('derives keywords from frequent content words', () => {
    expect(deriveKeywords('The ocean, the ocean, the deep ocean and the whale.', 'Nemo')).toEqual([
      'nemo',
      'ocean',
      'deep',
      'whale',
    ]);
  });
});
