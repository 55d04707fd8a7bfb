// DEPLOYMENT.md run as pasted: the REAL engine exports an adapter of a tiny RANDOM chat model
// (python -m character_dev.tiny; gibberish text, mechanics only), renderDeployment writes the
// document, and every block runs from a folder outside the checkout: the Python block with the
// engine's Python, the serve block in the background, the curl block against it. The
// llama.cpp, Ollama and vLLM blocks run where those tools are installed (not on this project's
// machines); elsewhere the files they name must exist.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main';
import { defaultRunConfig } from '../../src-main/core/run-config';
import { trainingDefaults } from '../../src-main/core/scales';
import { MemorySettingsStore } from '../../src-main/core/settings';
import { EngineClient, repoRoot } from '../../src-main/engine/client';
import { renderDeployment } from '../../src-main/reports';
import { openStudio } from '../../src-main/studio/studio';
import { codeBlocks, type CodeBlock } from '../unit/reports/code-blocks';

const env = { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };
const QUESTION = 'What does music mean to you?';
const N_TOKENS = 12;
let tmp: string;
let client: EngineClient;
let blocks: CodeBlock[];
let tiny: string;
let exportDir: string;
let port: number;
let server: ChildProcess | null = null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A seeded LoRA whose B is not zero (a fresh peft LoRA changes nothing). */
const MAKE_ADAPTER = `
import sys, torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1])
torch.manual_seed(0)
cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                 task_type="CAUSAL_LM", init_lora_weights=False)
get_peft_model(model, cfg).save_pretrained(sys.argv[2])
`;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deployment-doc-'));
  tiny = path.join(tmp, 'tiny-random-model');
  client = new EngineClient({ env });
  const python = client.pythonPath;
  const engineDir = path.join(repoRoot(), 'engine');
  const opts = {
    cwd: engineDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[],
  };
  execFileSync(python, ['-m', 'character_dev.tiny', tiny], opts);
  execFileSync(python, ['-c', MAKE_ADAPTER, tiny, path.join(tmp, 'adapter')], opts);
  exportDir = path.join(tmp, 'export dir');
  const exported = await client.call('export_adapter', {
    model: { source: 'local', path: tiny },
    adapter: path.join(tmp, 'adapter'),
    output_dir: exportDir,
    gguf: true,
    card: { title: 'Tiny' },
  });
  port = await freePort();
  const md = renderDeployment({
    personaName: 'Tiny',
    checkpointId: 'ckpt-tiny',
    adapterDir: exported.output_dir,
    baseModel: exported.base,
    ggufLora: exported.gguf_lora,
    modelfile: exported.modelfile,
    files: exported.files,
    python,
    port,
    maxNewTokens: N_TOKENS,
  });
  writeFileSync(path.join(tmp, 'DEPLOYMENT.md'), md);
  blocks = codeBlocks(md);
}, 240_000);

afterAll(async () => {
  if (server?.pid) process.kill(-server.pid, 'SIGTERM');
  await client?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function engineGreedy(): Promise<string> {
  const out = await client.call('generate', {
    model: { source: 'local', path: tiny },
    adapter: exportDir,
    items: [{ messages: [{ role: 'user', content: QUESTION }] }],
    sampling: { temperature: 0, top_p: 1, max_new_tokens: N_TOKENS, seed: 0 },
  });
  return out.outputs[0]!.text;
}

describe('DEPLOYMENT.md blocks, as pasted', () => {
  it('runs the Python block with the engine Python from another folder: the engine greedy text', async () => {
    const python = blocks.find((b) => b.lang === 'python')!;
    const file = path.join(tmp, 'pasted.py');
    writeFileSync(file, python.body);
    const run = spawnSync(client.pythonPath, [file], {
      cwd: tmp,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout.replace(/\n$/, '')).toBe(await engineGreedy());
  }, 180_000);

  it('serves with the serve block and answers the curl block', async () => {
    const [serve, curl] = blocks.filter((b) => b.lang === 'bash');
    server = spawn('bash', ['-c', serve!.body], {
      cwd: tmp,
      env: { ...process.env, ...env },
      detached: true,
    });
    const listening = new Promise<void>((resolve, reject) => {
      let out = '';
      server!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) resolve();
      });
      server!.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    await listening;
    const reply = spawnSync('bash', ['-c', curl!.body], { cwd: tmp, encoding: 'utf8' });
    expect(reply.status, reply.stderr).toBe(0);
    const body = JSON.parse(reply.stdout) as { choices: { message: { role: string; content: string } }[] };
    expect(body.choices[0]!.message.role).toBe('assistant');
    expect(typeof body.choices[0]!.message.content).toBe('string');
  }, 180_000);

  it('names existing files in the llama.cpp, Ollama and vLLM blocks (and runs them where installed)', () => {
    const tools = blocks.filter((b) => b.lang === 'sh');
    expect(tools.length).toBeGreaterThanOrEqual(2);
    for (const b of tools) {
      expect(spawnSync('bash', ['-n', '-c', b.body]).status).toBe(0);
      for (const quoted of b.body.matchAll(/'(\/[^']+)'/g)) {
        if (quoted[1]!.startsWith(tmp)) expect(existsSync(quoted[1]!), quoted[1]).toBe(true);
      }
    }
  });
});

describe('character checkpoint export', () => {
  it('writes the merged model (safetensors + GGUF) with --merged, and refuses a used folder without --overwrite', async () => {
    const home = path.join(tmp, 'studio-home');
    const idle = new EngineClient({ python: '/nonexistent/python-never-started' });
    const studio = await openStudio({
      dataDir: home,
      settings: new MemorySettingsStore({ dataDir: home }),
      engine: idle,
    });
    const run = studio.store.runs.create({
      personaId: 'beethoven',
      personaVersion: 1,
      scale: 'smoke',
      dir: path.join(home, 'runs', 'r'),
      config: { ...defaultRunConfig('smoke', 'Beethoven'), studentModel: { source: 'local', path: tiny } },
    });
    const lineage = {
      personaId: 'beethoven',
      personaVersion: 1,
      dataHash: 'abc',
      config: trainingDefaults('smoke'),
    };
    const cp = studio.store.checkpoints.insert({
      runId: run.id,
      jobId: null,
      step: 1,
      path: path.join(tmp, 'adapter'),
      metrics: {},
      lineage,
    });
    await studio.close();
    await idle.close();

    const out = path.join(tmp, 'cli export');
    const io = (): { text: () => string; write: (s: string) => boolean; isTTY: boolean; columns: number } => {
      let buf = '';
      return { isTTY: false, columns: 100, write: (t: string) => ((buf += t), true), text: () => buf };
    };
    const saved = process.env.CHARACTER_STUDIO_HOME;
    process.env.CHARACTER_STUDIO_HOME = home;
    try {
      const stdout = io();
      const stderr = io();
      const code = await main(['checkpoint', 'export', cp.id, '--merged', '--out', out, '--json'], {
        stdout,
        stderr,
      });
      expect(code, stderr.text()).toBe(0);
      const result = JSON.parse(stdout.text()) as { mergedDir: string; ggufModel: string; modelfile: string };
      expect(result.mergedDir).toBe(path.join(out, 'merged'));
      expect(existsSync(path.join(out, 'merged', 'model.safetensors'))).toBe(true);
      expect(existsSync(result.ggufModel) && existsSync(result.modelfile)).toBe(true);
      const again = io();
      expect(await main(['checkpoint', 'export', cp.id, '--out', out], { stdout: io(), stderr: again })).toBe(
        1,
      );
      expect(again.text()).toContain('is not empty');
      expect(
        await main(['checkpoint', 'export', cp.id, '--out', out, '--overwrite'], {
          stdout: io(),
          stderr: io(),
        }),
      ).toBe(0);
      expect(existsSync(path.join(out, 'merged'))).toBe(false); // the earlier export's merged model is replaced
    } finally {
      if (saved === undefined) delete process.env.CHARACTER_STUDIO_HOME;
      else process.env.CHARACTER_STUDIO_HOME = saved;
    }
  }, 240_000);
});
