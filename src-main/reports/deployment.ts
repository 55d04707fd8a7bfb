/** DEPLOYMENT.md: loading the exported adapter with transformers + peft, serving it, rolling back. */

export type BaseModelRef =
  /** A Hugging Face repo id or local folder loadable with from_pretrained. */
  | { kind: 'hf'; id: string }
  /** A GGUF file: transformers loads it with from_pretrained(folder, gguf_file=name). */
  | { kind: 'gguf'; dir: string; file: string };

export interface DeploymentInput {
  personaName: string;
  checkpointId: string;
  /** The exported PEFT adapter folder (adapter_config.json + adapter_model.safetensors). */
  adapterDir: string;
  baseModel: BaseModelRef;
  /** A merged full model, when the export made one. */
  mergedDir?: string | null;
  /** Files the export wrote, listed for the reader. */
  files?: string[];
  port?: number;
  /** How to run the engine's Python (default: engine/.venv/bin/python). */
  python?: string;
}

function pyStr(s: string): string {
  return JSON.stringify(s);
}

export function renderDeployment(input: DeploymentInput): string {
  const py = input.python ?? 'engine/.venv/bin/python';
  const port = input.port ?? 8000;
  const base = input.baseModel;
  const loadBase =
    base.kind === 'gguf'
      ? `base = AutoModelForCausalLM.from_pretrained(${pyStr(base.dir)}, gguf_file=${pyStr(base.file)})\ntokenizer = AutoTokenizer.from_pretrained(${pyStr(base.dir)}, gguf_file=${pyStr(base.file)})`
      : `base = AutoModelForCausalLM.from_pretrained(${pyStr(base.id)})\ntokenizer = AutoTokenizer.from_pretrained(${pyStr(base.id)})`;
  const serveBase =
    base.kind === 'gguf'
      ? `--model-source gguf --path ${JSON.stringify(`${base.dir}/${base.file}`)}`
      : `--model-source local --path ${JSON.stringify(base.id)}`;
  const sections = [
    `# Deploying the ${input.personaName} student`,
    `Checkpoint \`${input.checkpointId}\`, exported as a PEFT LoRA adapter to \`${input.adapterDir}\`. The student answers in character **without** the system prompt: send only the user's messages.`,
    input.files?.length ? `## Files\n\n${input.files.map((f) => `- \`${f}\``).join('\n')}` : '',
    '## Load with transformers + peft',
    'Needs `torch`, `transformers` and `peft`.',
    '```python',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    'from peft import PeftModel',
    '',
    loadBase,
    `model = PeftModel.from_pretrained(base, ${pyStr(input.adapterDir)})`,
    'model.eval()',
    '',
    'messages = [{"role": "user", "content": "What does music mean to you?"}]  # no system prompt',
    'inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")',
    'output = model.generate(inputs, max_new_tokens=200, do_sample=True, temperature=0.7)',
    'print(tokenizer.decode(output[0][inputs.shape[1]:], skip_special_tokens=True))',
    '```',
    input.mergedDir
      ? `A merged model (adapter folded into the weights) is in \`${input.mergedDir}\`: load it with \`AutoModelForCausalLM.from_pretrained(${pyStr(input.mergedDir)})\` and no peft.`
      : 'To fold the adapter into the weights for serving without peft: `merged = model.merge_and_unload(); merged.save_pretrained("merged")`.',
    '## Serve an OpenAI-compatible API',
    '```bash',
    `${py} -m character_engine serve ${serveBase} --adapter ${JSON.stringify(input.adapterDir)} --port ${port}`,
    '```',
    'Then call it with any OpenAI client (it listens on 127.0.0.1 only):',
    '```bash',
    `curl http://127.0.0.1:${port}/v1/chat/completions -H 'Content-Type: application/json' \\`,
    `  -d '{"messages": [{"role": "user", "content": "What does music mean to you?"}], "max_tokens": 200}'`,
    '```',
    '## Promote and roll back',
    [
      '- `character checkpoint list` shows every checkpoint with its state (candidate, promoted, archived).',
      `- \`character checkpoint promote ${input.checkpointId}\` makes this adapter current after the gate (student at least +0.05 over base, no safety regression). The last 3 promoted adapters are kept; older ones are archived.`,
      '- `character checkpoint rollback` archives the current adapter and restores the previous promoted one; restart the server with that adapter folder (shown by `character checkpoint info <id>`).',
      '- The current and the previous promoted adapters are never deleted, so a rollback always has somewhere to go.',
    ].join('\n'),
  ];
  return `${sections.filter((s) => s !== '').join('\n\n')}\n`;
}
