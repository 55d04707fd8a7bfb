"""Side-by-side benchmarks of the engine on this machine, measured in one run on the same data.

  python -m character_dev.bench --out FILE.json [--quick] [--only generation|sft|distill] [--resources DIR]

1. Teacher-data generation with a ~600-word shared system prompt (the Beethoven
   constitution from resources/personas, else filler): prefix-cached + batched (the
   engine's generate_items) at two batch sizes vs one request at a time without a cache.
   tokens/s, speedup (headline: the larger batch, the full-scale teacher batch).
   The same at the larger batch with and without top-k capture (k 64, files written, as
   teacher generation for distillation runs it), alternated U C C U: tokens/s and the ratio.
2. SFT: non-padding tokens/s of the engine's loop (training/loop.py) vs a plain TRL
   SFTTrainer (bf16=False, gradient_checkpointing=False, same LoRA, data, steps, LR),
   and the final loss of both adapters, evaluated the same way on the same data.
3. Time to first token with the system prompt vs without it.
4. Peak RSS per phase (VmHWM, reset between phases via /proc/self/clear_refs; each of
   generation / engine SFT / TRL SFT runs in its own subprocess).
5. Distillation (distill.py): the engine loop's step time for train_kd against train_sft on
   the same rows and steps (top-k files from a teacher pass inside the phase), and the step
   time of train_on_policy with how much of it is sampling.

The engine phases tune glibc malloc as the engine does at start-up (allocator.py). TRL
runs twice: plain (glibc defaults, the headline comparison) and with the same malloc
setting, which isolates what the training loop itself is worth.

The full run uses the embedded SmolLM2-135M-Instruct; --quick uses a tiny random model
(mechanics only: its ratios say little). Results go to FILE.json; a table to stderr.

  cli.py      arguments, the phase subprocesses, the result document
  phases.py   what each phase measures (runs inside its subprocess)
  distill.py  the distillation phases, their summary keys and table rows
  data.py     the system prompt, questions and SFT rows (from the repository's resources/)
  memory.py   peak RSS
  report.py   the summary ratios and the table
"""
