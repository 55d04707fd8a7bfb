// `character checkpoint deploy <id> --modal --gpu L4` with the REAL engine on a tiny random chat
// model's checkpoint: the merged model is exported, modal_app.py written beside it, and the app
// imported by the engine's Python under the real `modal` SDK (engine/requirements-dev.txt),
// which reports the GPU, the web endpoint and the model folder it declares. Modal's service is
// not reached: nothing here deploys.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main';
import { defaultRunConfig } from '../../src-main/core/run-config';
import { trainingDefaults } from '../../src-main/core/scales';
import { MemorySettingsStore } from '../../src-main/core/settings';
import { EngineClient, repoRoot } from '../../src-main/engine/client';
import { openStudio } from '../../src-main/studio/studio';

const env = { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };
const engineDir = path.join(repoRoot(), 'engine');
let tmp: string;
let python: string;

const MAKE_ADAPTER = `
import sys, torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1])
torch.manual_seed(0)
cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM",
                 init_lora_weights=False)
get_peft_model(model, cfg).save_pretrained(sys.argv[2])
`;

// Imports the generated app the way \`modal deploy\` does (a module from a file) and prints what
// the SDK's objects say.
const INSPECT = `
import importlib.util, json, sys
import modal
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
print(json.dumps({
    "modal": modal.__version__,
    "app": m.app.name,
    "gpu": m.serve._spec_.gpus,
    "web": m.serve._is_web_endpoint(),
    "model_dir": m.MODEL_DIR,
    "served": m.SERVED_MODEL_NAME,
}))
`;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modal-deploy-'));
  python = new EngineClient().pythonPath;
  const opts = {
    cwd: engineDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[],
  };
  execFileSync(python, ['-m', 'character_dev.tiny', path.join(tmp, 'tiny')], opts);
  execFileSync(python, ['-c', MAKE_ADAPTER, path.join(tmp, 'tiny'), path.join(tmp, 'adapter')], opts);
}, 240_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('character checkpoint deploy --modal', () => {
  it('writes a Modal app that the real modal SDK imports, serving the exported merged model on the chosen GPU', async () => {
    const home = path.join(tmp, 'home');
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
      config: {
        ...defaultRunConfig('smoke', 'Beethoven'),
        studentModel: { source: 'local', path: path.join(tmp, 'tiny') },
      },
    });
    const cp = studio.store.checkpoints.insert({
      runId: run.id,
      jobId: null,
      step: 1,
      path: path.join(tmp, 'adapter'),
      metrics: {},
      lineage: {
        personaId: 'beethoven',
        personaVersion: 1,
        dataHash: 'abc',
        config: trainingDefaults('smoke'),
      },
    });
    await studio.close();
    await idle.close();

    let out = '';
    let err = '';
    const stdout = { isTTY: false, columns: 100, write: (t: string) => ((out += t), true) };
    const stderr = { isTTY: false, columns: 100, write: (t: string) => ((err += t), true) };
    const saved = process.env.CHARACTER_STUDIO_HOME;
    process.env.CHARACTER_STUDIO_HOME = home;
    try {
      const bad = await main(['checkpoint', 'deploy', cp.id, '--modal', '--gpu', 'V100'], { stdout, stderr });
      expect(bad).not.toBe(0);
      expect(err).toContain('--gpu must be one of');
      out = '';
      const code = await main(['checkpoint', 'deploy', cp.id, '--modal', '--gpu', 'L4', '--json'], {
        stdout,
        stderr,
      });
      expect(code, err).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.CHARACTER_STUDIO_HOME;
      else process.env.CHARACTER_STUDIO_HOME = saved;
    }
    const d = JSON.parse(out) as {
      appFile: string;
      mergedDir: string;
      commands: string[];
      usdPerHour: number;
    };
    expect(existsSync(path.join(d.mergedDir, 'model.safetensors'))).toBe(true);
    expect(d.commands.at(-1)).toMatch(/modal deploy modal_app\.py$/);
    expect(d.usdPerHour).toBeGreaterThan(0);
    const seen = JSON.parse(
      execFileSync(python, ['-c', INSPECT, d.appFile], {
        cwd: tmp,
        env: { ...process.env, ...env },
      }).toString(),
    ) as Record<string, unknown>;
    expect(seen).toMatchObject({ modal: '1.6.4', gpu: 'L4', web: true, served: 'beethoven' });
    expect(seen.app).toBe(`character-beethoven-${cp.id.toLowerCase()}`.slice(0, 64).replace(/-+$/, ''));
    // The model the app serves is the one this deploy exported.
    expect(path.resolve(String(seen.model_dir))).toBe(path.resolve(d.mergedDir));
  }, 300_000);
});
