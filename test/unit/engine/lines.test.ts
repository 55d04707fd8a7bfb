import { describe, expect, it } from 'vitest';
import { LineSplitter, parseEngineLine } from '../../../src-main/engine/lines';

describe('LineSplitter', () => {
  it('joins partial chunks and splits several lines in one chunk', () => {
    const s = new LineSplitter();
    expect(s.push('{"id":"r1",')).toEqual([]);
    expect(s.pending).toBe(11);
    expect(s.push('"result":{}}\n{"id":"r2"')).toEqual(['{"id":"r1","result":{}}']);
    expect(s.push(',"result":1}\n\n{"id":')).toEqual(['{"id":"r2","result":1}', '']);
    expect(s.flush()).toBe('{"id":');
    expect(s.flush()).toBeNull();
  });

  it('strips \\r of CRLF line ends, also when \\r and \\n arrive in different chunks', () => {
    const s = new LineSplitter();
    expect(s.push('a\r\nb\r')).toEqual(['a']);
    expect(s.push('\nc')).toEqual(['b']);
    expect(s.flush()).toBe('c');
  });

  it('keeps multi-byte text intact (chunks are already decoded strings)', () => {
    const s = new LineSplitter();
    expect(s.push('{"t":"Für El')).toEqual([]);
    expect(s.push('ise ♪"}\n')).toEqual(['{"t":"Für Elise ♪"}']);
  });
});

describe('parseEngineLine', () => {
  it('parses results, errors and events', () => {
    expect(parseEngineLine('{"id":"r1","result":{"ok":true}}')).toEqual({
      kind: 'result',
      id: 'r1',
      result: { ok: true },
    });
    expect(parseEngineLine('{"id":"r2","result":null}')).toEqual({ kind: 'result', id: 'r2', result: null });
    expect(
      parseEngineLine('{"id":"r3","error":{"code":"invalid_params","message":"bad","detail":{"param":"items"}}}'),
    ).toEqual({
      kind: 'error',
      id: 'r3',
      error: { code: 'invalid_params', message: 'bad', detail: { param: 'items' } },
    });
    expect(
      parseEngineLine('{"id":"r4","event":"progress","phase":"generate","done":1,"total":4,"fraction":0.25}'),
    ).toEqual({
      kind: 'event',
      id: 'r4',
      event: { event: 'progress', phase: 'generate', done: 1, total: 4, fraction: 0.25 },
    });
  });

  it('ignores blank lines and skips unknown event kinds without failing the call', () => {
    expect(parseEngineLine('   ')).toEqual({ kind: 'empty' });
    expect(parseEngineLine('{"id":"r5","event":"sparkle"}')).toEqual({
      kind: 'unknown_event',
      id: 'r5',
      name: 'sparkle',
    });
  });

  it('reports garbage with a reason and recovers the request id from a damaged reply', () => {
    const plain = parseEngineLine('Loading checkpoint shards: 100%');
    expect(plain).toMatchObject({ kind: 'garbage', reason: 'not JSON', id: null });
    const glued = parseEngineLine('warning: something{"id": "r9", "result": {}}');
    expect(glued).toMatchObject({ kind: 'garbage', reason: 'not JSON', id: 'r9' });
    expect(parseEngineLine('[1,2]')).toMatchObject({ kind: 'garbage', reason: 'not a JSON object' });
    expect(parseEngineLine('{"result":1}')).toMatchObject({ kind: 'garbage', reason: 'no request id' });
    expect(parseEngineLine('{"id":"r7","error":"boom"}')).toMatchObject({
      kind: 'garbage',
      reason: 'malformed error object',
      id: 'r7',
    });
    expect(parseEngineLine('{"id":"r8","foo":1}')).toMatchObject({ kind: 'garbage', id: 'r8' });
  });

  it('truncates very long garbage lines', () => {
    const parsed = parseEngineLine('x'.repeat(10_000));
    expect(parsed.kind).toBe('garbage');
    if (parsed.kind === 'garbage') expect(parsed.line.length).toBeLessThan(400);
  });
});

describe('LineSplitter on large replies', () => {
  it('reassembles a 20 MB line from 64 KiB chunks in linear time', () => {
    const s = new LineSplitter();
    const big = `{"id":"r1","result":{"v":"${'x'.repeat(20 * 1024 * 1024)}"}}\n`;
    const started = performance.now();
    const lines: string[] = [];
    for (let i = 0; i < big.length; i += 65536) lines.push(...s.push(big.slice(i, i + 65536)));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.length).toBe(big.length - 1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('names an engine error that has no request id', () => {
    expect(parseEngineLine('{"id":null,"error":{"code":"bad_request","message":"line is not valid JSON"}}')).toMatchObject({
      kind: 'garbage',
      reason: 'engine error without request id: line is not valid JSON',
    });
  });
});
