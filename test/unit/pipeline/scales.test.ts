import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src-main/core/errors';
import { scaleConfig, SMOKE_HELD_OUT_ENV } from '../../../src-main/core/scales';

describe('scaleConfig', () => {
  it('gives the smoke scale 8 held-out of 24 questions by default', () => {
    const sc = scaleConfig('smoke', {});
    expect(sc.heldOut).toBe(8);
    expect(sc.questions).toBe(24);
  });

  it('takes the smoke held-out count from the environment, keeping the training questions', () => {
    const sc = scaleConfig('smoke', { [SMOKE_HELD_OUT_ENV]: '36' });
    expect(sc.heldOut).toBe(36);
    expect(sc.questions - sc.heldOut).toBe(16);
    // Only the smoke scale follows it, and the table itself is untouched.
    expect(scaleConfig('mini', { [SMOKE_HELD_OUT_ENV]: '36' }).heldOut).toBe(scaleConfig('mini', {}).heldOut);
    expect(scaleConfig('smoke', {}).heldOut).toBe(8);
  });

  it('rejects a held-out count that is not a whole number from 1 to 500', () => {
    for (const bad of ['0', '-3', '2.5', 'many', '501']) {
      expect(() => scaleConfig('smoke', { [SMOKE_HELD_OUT_ENV]: bad })).toThrow(ConfigError);
    }
  });
});
