/**
 * What prompt distillation saves, from MEASURED inputs: the teacher answers with the
 * constitution in its prompt, the student without it. Token counts come from the engine's
 * tokenizer, times from the same engine on the same machine, prices from the user's settings.
 * Nothing here is estimated; every input is a measurement or a price.
 */
import type { SavingsSummary } from '../../src-shared/contract';

/** USD per million tokens (same field names as the pipeline's PriceSettings). */
export interface SavingsPrices {
  teacherInputPerMillion: number;
  teacherOutputPerMillion: number;
  studentInputPerMillion: number;
  studentOutputPerMillion: number;
}

export interface SavingsInput {
  /** Mean prompt tokens per query: teacher with the system prompt, student without. */
  promptTokensTeacher: number;
  promptTokensStudent: number;
  /** Mean generated tokens per query. */
  completionTokensTeacher: number;
  completionTokensStudent: number;
  /** Time to first token and total latency per query, ms, measured on the same engine. */
  ttftMsTeacher: number;
  ttftMsStudent: number;
  latencyMsTeacher: number;
  latencyMsStudent: number;
  prices: SavingsPrices;
  /** What training the student cost, USD (0 on your own machine if you price it at 0). */
  trainingCostUsd: number;
}

export interface SavingsResult extends SavingsSummary {
  /** USD per single query. */
  costPerQueryTeacher: number;
  costPerQueryStudent: number;
  /** costPerQueryTeacher - costPerQueryStudent. */
  savingPerQuery: number;
  /** ttftMsTeacher / ttftMsStudent. */
  ttftRatio: number;
  trainingCostUsd: number;
}

const PER_MILLION = 1_000_000;

function ratio(num: number, den: number): number {
  return den > 0 ? num / den : NaN;
}

/** Cost of one query in USD from its token counts and per-million prices. */
export function costPerQuery(
  promptTokens: number,
  completionTokens: number,
  inPerM: number,
  outPerM: number,
): number {
  return (promptTokens * inPerM + completionTokens * outPerM) / PER_MILLION;
}

/** Training cost in USD from measured wall time (seconds) and a price per hour. */
export function trainingCostUsd(trainSeconds: number, pricePerHour: number): number {
  return (trainSeconds / 3600) * pricePerHour;
}

/**
 * Token reduction (1 - student/teacher prompt tokens), latency ratio (teacher/student), cost per
 * million queries for both, and payback: how many queries until the per-query saving has paid
 * for training (rounded up; 0 when training was free; null when the student saves nothing).
 */
export function computeSavings(input: SavingsInput): SavingsResult {
  const p = input.prices;
  const perQueryTeacher = costPerQuery(
    input.promptTokensTeacher,
    input.completionTokensTeacher,
    p.teacherInputPerMillion,
    p.teacherOutputPerMillion,
  );
  const perQueryStudent = costPerQuery(
    input.promptTokensStudent,
    input.completionTokensStudent,
    p.studentInputPerMillion,
    p.studentOutputPerMillion,
  );
  const saving = perQueryTeacher - perQueryStudent;
  let paybackQueries: number | null;
  if (input.trainingCostUsd <= 0) paybackQueries = saving >= 0 ? 0 : null;
  // The relative epsilon keeps 6.70 / 0.000335 = 20000.000000000004 from rounding up to 20001.
  else paybackQueries = saving > 0 ? Math.ceil((input.trainingCostUsd / saving) * (1 - 1e-12)) : null;
  return {
    promptTokensTeacher: input.promptTokensTeacher,
    promptTokensStudent: input.promptTokensStudent,
    tokenReduction:
      input.promptTokensTeacher > 0 ? 1 - input.promptTokensStudent / input.promptTokensTeacher : NaN,
    ttftMsTeacher: input.ttftMsTeacher,
    ttftMsStudent: input.ttftMsStudent,
    latencyMsTeacher: input.latencyMsTeacher,
    latencyMsStudent: input.latencyMsStudent,
    latencyRatio: ratio(input.latencyMsTeacher, input.latencyMsStudent),
    ttftRatio: ratio(input.ttftMsTeacher, input.ttftMsStudent),
    costPerMillionTeacher: perQueryTeacher * PER_MILLION,
    costPerMillionStudent: perQueryStudent * PER_MILLION,
    costPerQueryTeacher: perQueryTeacher,
    costPerQueryStudent: perQueryStudent,
    savingPerQuery: saving,
    paybackQueries,
    trainingCostUsd: input.trainingCostUsd,
  };
}
