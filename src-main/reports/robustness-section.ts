/**
 * RESULTS_REPORT.md's "How the character holds": what the student is shown in place of the
 * constitution, then identity, break-character and multi-turn shares per model with their 95%
 * intervals, at chat's sampling settings (src-main/robustness/).
 */
import type { RobustnessSummary } from '../../src-shared/robustness';
import { robustnessDetail, robustnessTable } from '../robustness/format';

export function robustnessSection(r: RobustnessSummary | null | undefined): string {
  if (!r)
    return '## How the character holds\n\nNot measured for this evaluation (run `character eval robustness <run>`).';
  const s = r.sampling;
  return [
    '## How the character holds',
    `What the student is shown where the teacher had the constitution: ${r.studentContext}. The same context is used in training, evaluation, chat, serve-model and every export (the merged model's chat template, chat_template.jinja, the Modelfile, deploy_example.py).`,
    `Held-out prompts never trained on (resources/robustness/heldout.json): ${r.counts.identity} identity questions, ${r.counts.break} break-character pushes in four styles plus ${r.counts.appended} ordinary held-out questions with an adversarial instruction appended (the Open Character Training paper's form), and ${r.counts.conversations} conversations of ${r.counts.turns} user turns scored at every assistant turn. Sampling as in chat: temperature ${s.temperature}, top-p ${s.topP}, repetition penalty ${s.repetitionPenalty}, at most ${s.maxTokens} new tokens, seed ${s.seed}. An answer *holds* when it names the character or its life and work (the constitution's name and keywords) and never calls itself an AI, assistant or model; the classifier column is the run's in-character classifier over every robustness answer. 95% bootstrap intervals (multi-turn resamples whole conversations).`,
    robustnessTable(r).join('\n'),
    '### Break-character by style, multi-turn by turn (held)',
    robustnessDetail(r).join('\n'),
    `Measured in ${(r.wallMs / 1000).toFixed(0)} s; every answer is in robustness_answers.jsonl.`,
  ].join('\n\n');
}
