import { describe, expect, it } from 'vitest';
import { characterOverrides, smokeChoice } from '../../../src-main/cli/character-flags';
import {
  characterDefaults,
  introspectionEstimate,
  validateCharacterOptions,
} from '../../../src-main/core/character-options';
import { defaultRunConfig, parseRunConfig } from '../../../src-main/core/run-config';
import { scaleConfig } from '../../../src-main/core/scales';
import { characterOptionsFor } from '../../../src-main/runs/create-run';
import { smokeFailureMessage, smokeScale, smokeSizes } from '../../../src-main/runs/smoke';

describe('character recipe options', () => {
  it('default to sequential mode, with the paper scale at the paper’s sizes', () => {
    expect(characterDefaults('mini')).toMatchObject({
      mode: 'sequential',
      merge: false,
      interactionTurns: 10,
    });
    const paper = introspectionEstimate(characterDefaults('paper'), 512, 100);
    expect(paper).toMatchObject({ reflections: 10_000, interactions: 2_000, interactionTurns: 10 });
    expect(paper.generations).toBe(10_000 + 20_000);
    expect(paper.maxTokens).toBe(30_000 * 512);
    expect(paper.seconds).toBe(Math.round((30_000 * 512) / 100));
  });

  it('are refused when they cannot run, naming the field', () => {
    const ok = characterDefaults('smoke');
    expect(() => validateCharacterOptions({ ...ok, merge: true })).toThrow(/merging needs paper mode/);
    expect(() => validateCharacterOptions({ ...ok, interactionTurns: 11 })).toThrow(/interactionTurns/);
    expect(() =>
      validateCharacterOptions({ ...ok, mode: 'paper', mergeWeights: { dpo: -1, sft: 1 } }),
    ).toThrow(/mergeWeights\.dpo/);
    expect(() => validateCharacterOptions({ ...ok, mergeWeights: { dpo: 0, sft: 0 } })).toThrow(/both be 0/);
  });

  it('belong to the character recipe only, over the scale’s defaults', () => {
    expect(characterOptionsFor('distill', 'mini', undefined)).toBeUndefined();
    expect(() => characterOptionsFor('distill', 'mini', { mode: 'paper' })).toThrow(/character recipe/);
    expect(
      characterOptionsFor('character', 'mini', {
        mode: 'paper',
        merge: true,
        mergeWeights: { dpo: 0.5, sft: 1 },
      }),
    ).toMatchObject({ mode: 'paper', merge: true, mergeWeights: { dpo: 0.5, sft: 1 }, reflectionSamples: 3 });
  });

  it('anchor every stage to the teacher by default; runs stored before the anchor train as they did', () => {
    for (const scale of ['smoke', 'mini', 'paper'] as const)
      expect(characterDefaults(scale)).toMatchObject({ dpoKdWeight: 1, anchor: 'kd', mergeGrid: true });
    const base = defaultRunConfig('mini', 'Beethoven');
    const { dpoKdWeight: _w, anchor: _a, mergeGrid: _g, ...before } = characterDefaults('mini');
    const parsed = parseRunConfig({ ...base, recipe: 'character', character: before }, 'r0').character;
    expect(parsed).toEqual(before);
    expect(parsed?.anchor).toBeUndefined();
    expect(() =>
      parseRunConfig({ ...base, recipe: 'character', character: { ...before, anchor: 'kl' } }, 'r5'),
    ).toThrow(/character\.anchor/);
    expect(() => validateCharacterOptions({ ...characterDefaults('mini'), dpoKdWeight: -1 })).toThrow(
      /dpoKdWeight/,
    );
  });

  it('are stored with the run; configs stored without them still parse', () => {
    const base = defaultRunConfig('mini', 'Beethoven');
    expect(parseRunConfig(JSON.parse(JSON.stringify(base)), 'r1').character).toBeUndefined();
    const withOptions = { ...base, recipe: 'character', character: characterDefaults('mini') };
    expect(parseRunConfig(JSON.parse(JSON.stringify(withOptions)), 'r2').character).toEqual(
      characterDefaults('mini'),
    );
    expect(() =>
      parseRunConfig({ ...withOptions, character: { ...characterDefaults('mini'), extra: 1 } }, 'r3'),
    ).toThrow(/character\.extra/);
    expect(() =>
      parseRunConfig({ ...withOptions, character: { ...characterDefaults('mini'), merge: 'yes' } }, 'r4'),
    ).toThrow(/character\.merge/);
  });
});

describe('the CLI’s character flags', () => {
  it('read paper mode, merge weights and introspection sizes', () => {
    expect(characterOverrides('pipeline', {})).toBeUndefined();
    expect(
      characterOverrides('pipeline', {
        'paper-mode': true,
        merge: true,
        'merge-weights': '0.7, 0.4',
        reflections: '100',
        interactions: '2000',
        'interaction-turns': '10',
      }),
    ).toEqual({
      mode: 'paper',
      merge: true,
      mergeWeights: { dpo: 0.7, sft: 0.4 },
      mergeGrid: false, // weights given by hand are used as given
      reflectionSamples: 100,
      interactions: 2000,
      interactionTurns: 10,
    });
    expect(characterOverrides('pipeline', { 'dpo-kd-weight': '0', anchor: 'none' })).toEqual({
      dpoKdWeight: 0,
      anchor: 'none',
    });
    expect(() => characterOverrides('pipeline', { 'dpo-kd-weight': '-1' })).toThrow(/--dpo-kd-weight/);
    expect(() => characterOverrides('pipeline', { anchor: 'kl' })).toThrow(/--anchor must be kd or none/);
    expect(() => characterOverrides('pipeline', { merge: true })).toThrow(/--merge needs --paper-mode/);
    expect(() =>
      characterOverrides('pipeline', { 'paper-mode': true, merge: true, 'merge-weights': '1' }),
    ).toThrow(/two numbers/);
    expect(() => characterOverrides('pipeline', { reflections: '0' })).toThrow(/--reflections/);
  });

  it('run both smoke passes before a paper-scale run unless told otherwise', () => {
    expect(smokeChoice('pipeline', {}, 'paper')).toBe('both');
    expect(smokeChoice('pipeline', {}, 'mini')).toBe('none');
    expect(smokeChoice('pipeline', { 'no-smoke': true }, 'paper')).toBe('none');
    expect(smokeChoice('pipeline', { smoke: 'large' }, 'mini')).toBe('large');
    expect(() => smokeChoice('pipeline', { smoke: 'huge' }, 'paper')).toThrow(/small, large or both/);
    expect(smokeSizes('both')).toEqual(['small', 'large']);
    expect(smokeSizes('none')).toEqual([]);
  });
});

describe('smoke passes', () => {
  it('shrink the data and steps but keep the paper scale’s training settings in the large pass', () => {
    const small = scaleConfig('smoke');
    smokeScale('small', small);
    expect(small.training.maxSteps).toBe(4);
    const large = scaleConfig('paper');
    const paper = scaleConfig('paper');
    smokeScale('large', large);
    expect(large.training).toMatchObject({
      maxSteps: 2,
      batchSize: paper.training.batchSize,
      loraR: paper.training.loraR,
      maxLength: paper.training.maxLength,
      learningRate: paper.training.learningRate,
    });
    expect(large.questions).toBeLessThan(60);
    expect(large.generation.maxNewTokens).toBe(128);
    expect(large.training.warmupSteps).toBeLessThan(large.training.maxSteps);
  });

  it('explain a failure and how to skip the check', () => {
    const msg = smokeFailureMessage([
      { size: 'small', runId: 'r-small', ok: false, seconds: 3, failedStep: 'train', error: 'bad tokens' },
    ]);
    expect(msg).toMatch(/small smoke pass failed at train \(run r-small\): bad tokens.*--no-smoke/);
  });
});
