/** The evaluation's file: evaluation_results.json in the run folder (NaN and Infinity written as null). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EvaluationResult } from './types';

/** NaN and Infinity are not JSON: write them as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function writeEvaluationResults(path: string, result: EvaluationResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, jsonNumbers, 2)}\n`);
}
