/**
 * The `character` CLI: command dispatch and the one place where errors become a single line
 * on stderr and exit code 1. Argument helpers are in args.ts; each command in commands/.
 */
import { CliContext, type CliIO, type CommandFn } from './context';
import { splitGlobal } from './args';
import { formatError } from './format-error';

export const USAGE = `character — distil a character constitution into a small model

usage: character <command> [options]

pipeline <persona> --scale smoke|mini|paper [--model M] [--teacher M] [--recipe distill|character|good-pairs]
          [--objective sft|kd|on-policy] [--kd-weight W] [--max-steps N] [--resume RUN]
          [--data FILE [--data-as teacher|questions] [--data-format F] [--character NAME]]
          [--backend local|tinker [--tinker-model NAME] [--tinker-teacher NAME]]
          character recipe: [--paper-mode [--merge [--merge-weights DPO,SFT]]] [--reflections N (per prompt)]
          [--interactions N] [--interaction-turns N (2-10)] [--dpo-kd-weight W (0: the paper's DPO)]
          [--anchor kd|none (introspection: the teacher's top-k, kd | the DPO checkpoint's text, sft)];
          before --scale paper: [--smoke small|large|both | --no-smoke]
                          run every step: questions, generate, audit, split, train, evaluate, savings, report;
                          with --data the questions (and as teacher data the answers) come from FILE
generate|audit|train|eval <run>   run one step of an existing run (earlier steps must have run);
                          train <run> [--config training_config.yaml] [--objective O] [--kd-weight W] [--max-steps N]
                          [--dpo-kd-weight W] [--anchor kd|none] (a character run trained again on its data)
eval classifier --train A.jsonl --eval B.jsonl [--out FILE]   fit the in-character classifier on A, score B
eval elo matches.jsonl [--judge local|M] [--persona ID] [--k 32]   Elo from pairwise matches (the engine judges missing winners)
eval revealed-preferences [M] [--persona ID] [--checkpoint ID] [--with-constitution]   Elo over traits from the model's choices
eval robustness <run>     how the run's character holds: identity, break-character (4 styles + appended), multi-turn
                          [--temperature T] [--top-p P] [--max-tokens N] [--repetition-penalty R] [--seed S]
                          [--models base,teacher,student]   a trial at other settings, in files of its own
objectives: sft (the teacher's answers as text), kd (the teacher's token distributions),
            on-policy (the student answers, the teacher scores each token)
runs                      list runs
review list [run] | export <sheet>   rating and A/B sheets from the database (rated/judged counts); the CSV/TXT
                          export (pairwise_review.csv for an A/B sheet) updates the report's review section
report <run>              print the path and key numbers of a run's RESULTS_REPORT.md
sample "<text>" [--checkpoint ID] [--teacher]   one answer from a checkpoint (no system prompt)
chat [--checkpoint ID] [--teacher]              interactive chat (readline)
          sampling for both: [--temperature T (0 = greedy)] [--top-p P] [--max-tokens N] [--seed S]
                             [--repetition-penalty R (1 = off)] [--no-repeat-ngram N (0 = off)]
constitution list|show <id>|validate <file>|save <file> [--new-version]
constitution draft NAME --about "..." [--provider local|openai] [--model M] [--out FILE]   a model drafts, you edit
checkpoint list|info <id>|use <id> ["text"]|delete <id>|promote <id>|rollback
checkpoint export <id> [--out DIR] [--merged] [--overwrite]   adapter, card, GGUF LoRA, Modelfile (+ merged)
checkpoint list --tinker | pull <id|tinker://...>   Tinker's checkpoints; an adapter pulled into the registry
checkpoint push <id> --repo owner/name [--endpoint URL] [--private] [--no-data]   to a Hugging Face hub repo
checkpoint deploy <id> --modal [--gpu T4|L4|A10G|A100|H100] [--out DIR]   a Modal app (vLLM, OpenAI API) + its deploy commands
import FILE [--format chat|sharegpt|alpaca|characterllm] [--character NAME] [--out FILE] [--force]
                          question -> answer pairs (layout detected unless given) -> imports/*.jsonl
import-characterllm FILE --character NAME [--out FILE] [--force]   the same, --format characterllm
info                      engine health, data folder, runs
doctor [--repair] [--rebuild]   check the database; restore the last good backup or rebuild the
                          index of runs, checkpoints and metrics from the run folders
distill collect [--min-score 0.7]   good pairs from evaluations and reviews -> distill_dataset.jsonl
demo [--no-serve]         the mini pipeline on the embedded SmolLM2, then the app on a loopback URL
serve [--port N]          the app on a loopback URL (Electron cannot start here)
serve-model [--checkpoint ID] [--port N] [--host H] [--api-key KEY] [--model-id ID]
                          a checkpoint behind an OpenAI-compatible server (/v1/chat/completions,
                          /v1/completions); beyond loopback an API key is required (generated if none)

models (M): default (embedded SmolLM2-135M-Instruct) | local:/hf/folder | gguf:/file.gguf
global options: --json (machine-readable stdout), --verbose, --help
environment: CHARACTER_STUDIO_HOME (data folder, default ~/.character-studio)`;

type Loader = () => Promise<CommandFn>;

const COMMANDS: Record<string, Loader> = {
  pipeline: async () => (await import('./commands/pipeline')).pipelineCommand,
  generate: async () => (await import('./commands/pipeline')).stepCommand('generate'),
  audit: async () => (await import('./commands/pipeline')).stepCommand('audit'),
  train: async () => (await import('./commands/pipeline')).stepCommand('train'),
  eval: async () => (await import('./commands/eval')).evalCommand,
  runs: async () => (await import('./commands/pipeline')).runsCommand,
  report: async () => (await import('./commands/pipeline')).reportCommand,
  info: async () => (await import('./commands/info')).infoCommand,
  doctor: async () => (await import('./commands/doctor')).doctorCommand,
  distill: async () => (await import('./commands/distill')).distillCommand,
  sample: async () => (await import('./commands/chat')).sampleCommand,
  chat: async () => (await import('./commands/chat')).chatCommand,
  constitution: async () => (await import('./commands/constitution')).constitutionCommand,
  checkpoint: async () => (await import('./commands/checkpoint')).checkpointCommand,
  import: async () => (await import('./commands/import')).importCommand,
  'import-characterllm': async () => (await import('./commands/import')).importCharacterLlmCommand,
  demo: async () => (await import('./commands/demo')).demoCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
  'serve-model': async () => (await import('./commands/serve-model')).serveModelCommand,
  review: async () => (await import('./commands/review')).reviewCommand,
};

export async function main(
  argv: string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const { json, verbose, help, rest } = splitGlobal(argv);
  const [name, ...args] = rest;
  if (!name || name === 'help' || (help && !name)) {
    io.stdout.write(`${USAGE}\n`);
    return name || help ? 0 : 1;
  }
  if (help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`character: unknown command "${name}" (see character --help)\n`);
    return 1;
  }
  const ctx = new CliContext(io, json, verbose);
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      ctx.note('interrupted: stopping after the work in flight (Ctrl-C again to quit now)');
      ctx.abort.abort();
    } else {
      process.exit(130);
    }
  };
  // `kill <pid>` (SIGTERM) and a closed terminal (SIGHUP) stop like Ctrl-C: the command's
  // cleanup runs (a served model's engine is stopped, a run is marked), instead of node dying
  // and leaving an engine listening with parent 1.
  const onTerm = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      ctx.note(`${signal}: stopping`);
      ctx.abort.abort();
    } else process.exit(128 + (signal === 'SIGTERM' ? 15 : 1));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onTerm);
  try {
    const fn = await load();
    return await fn(args, ctx);
  } catch (error) {
    ctx.progress.finish();
    io.stderr.write(`${formatError(error, verbose, ctx.dataDir)}\n`);
    if (json) io.stdout.write(`${JSON.stringify({ error: errorJson(error) })}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
    await ctx.close();
  }
}

function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(error) };
}
