import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src-main/engine/errors';
import { HandlerError, httpStatusFor, toErrorPayload } from '../../../src-main/handlers/errors';
import { PersonaError } from '../../../src-main/personas';
import { ConfigError, StepOrderError } from '../../../src-main/pipeline/errors';
import { ReviewError } from '../../../src-main/review';

describe('error payloads', () => {
  it('keeps an error’s own code (engine, review, handler) with its detail and class', () => {
    const engine = toErrorPayload(
      new EngineError('no such model', 'model_not_found', 'load_model', 'r3', { path: '/x' }),
    );
    expect(engine).toEqual({
      code: 'model_not_found',
      message: 'no such model',
      detail: { path: '/x', errorClass: 'EngineError' },
    });
    expect(httpStatusFor(engine)).toBe(404);
    const review = toErrorPayload(new ReviewError('bad', 'invalid', { value: 9 }));
    expect(review.code).toBe('invalid');
    expect(httpStatusFor(review)).toBe(400);
    expect(httpStatusFor(toErrorPayload(new HandlerError('x', 'invalid_params')))).toBe(400);
  });

  it('derives a code from the class name when there is none', () => {
    expect(toErrorPayload(new ConfigError('lr too high', 'learningRate')).code).toBe('config');
    const order = toErrorPayload(new StepOrderError('train', 'split'));
    expect(order.code).toBe('step_order');
    expect(httpStatusFor(order)).toBe(409);
    expect(toErrorPayload(new TypeError('x is undefined')).code).toBe('type');
    expect(toErrorPayload(new Error('plain')).code).toBe('internal');
  });

  it('carries validation issues and drops details that are not JSON', () => {
    const issue = { line: 3, field: 'meta.name', message: 'required' };
    const persona = toErrorPayload(new PersonaError('invalid', [issue]));
    expect(persona.detail).toMatchObject({ issues: [issue] });
    expect(httpStatusFor(persona)).toBe(400);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const odd = Object.assign(new Error('odd'), { detail: circular });
    expect(toErrorPayload(odd)).toEqual({ code: 'internal', message: 'odd' });
  });

  it('turns non-errors into internal errors and system errors keep their code', () => {
    expect(toErrorPayload('boom')).toEqual({ code: 'internal', message: 'boom' });
    expect(toErrorPayload(42)).toEqual({ code: 'internal', message: 'unknown error' });
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(httpStatusFor(toErrorPayload(enoent))).toBe(404);
  });
});
