import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src-main/engine/errors';
import { HTTP_STATUS, httpStatusFor, toErrorPayload } from '../../../src-main/handlers/errors';
import { PersonaError } from '../../../src-main/personas';
import { ConfigError, InvalidParamsError, StepOrderError, StudioError } from '../../../src-main/core/errors';
import { ERROR_CODES } from '../../../src-shared/contract';
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
    const review = toErrorPayload(new ReviewError('bad', 'invalid_input', { value: 9 }));
    expect(review.code).toBe('invalid_input');
    expect(review.detail).toMatchObject({ value: 9, errorClass: 'ReviewError' });
    expect(httpStatusFor(review)).toBe(400);
    const param = toErrorPayload(new InvalidParamsError('x', 'runId'));
    expect(param).toMatchObject({ code: 'invalid_params', detail: { param: 'runId' } });
    expect(httpStatusFor(param)).toBe(400);
  });

  it('every StudioError carries one of the contract codes, and every code has a status', () => {
    expect(new ConfigError('x', 'f')).toBeInstanceOf(StudioError);
    for (const code of ERROR_CODES) expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('uses the class’s own code, never its name', () => {
    expect(toErrorPayload(new ConfigError('lr too high', 'learningRate')).code).toBe('config');
    const order = toErrorPayload(new StepOrderError('train', 'split'));
    expect(order.code).toBe('step_order');
    expect(httpStatusFor(order)).toBe(409);
    expect(toErrorPayload(new TypeError('x is undefined')).code).toBe('internal');
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
    const enoent = toErrorPayload(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }));
    expect(enoent).toMatchObject({ code: 'not_found', detail: { systemCode: 'ENOENT' } });
    expect(httpStatusFor(enoent)).toBe(404);
    const unknown = toErrorPayload(Object.assign(new Error('odd'), { code: 'made_up' }));
    expect(unknown.code).toBe('internal');
  });
});
