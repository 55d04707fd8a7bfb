/**
 * `character checkpoint list | info <id> | use <id> ["text"] | delete <id> | promote <id> |
 * rollback | export <id> [--out DIR] [--merged] [--overwrite] | push <id> --repo owner/name |
 * list --tinker | pull <id|tinker://...>` (Tinker: checkpoint-tinker.ts) | deploy <id> --modal
 * [--gpu T4|L4|A10G|A100|H100]` (checkpoint-modal.ts).
 */
import { resolve } from 'node:path';
import { exportCheckpoint, pushCheckpoint } from '../../registry/export';
import type { CheckpointRecord } from '../../store';
import { CliUsageError, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';
import { deployModal } from './checkpoint-modal';
import { listTinker, pullTinker } from './checkpoint-tinker';

/** `*` marks what chat, sample and serve-model use; "current" the top of the promoted stack. */
function line(c: CheckpointRecord, active: string | null, current: string | null): string {
  const m = Object.entries(c.metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k}=${v.toFixed(3)}`)
    .join(' ');
  const state = c.id === current ? `${c.state} (current)` : c.state;
  return `${c.id === active ? '*' : ' '} ${c.id}  ${state.padEnd(19)} step ${String(c.step).padStart(5)}  ${c.lineage.personaId} v${c.lineage.personaVersion}  ${m}`;
}

export const checkpointCommand: CommandFn = async (args, ctx) => {
  const { positionals, values } = parseCommandArgs('checkpoint', args, {
    run: { type: 'string' },
    'remove-files': { type: 'boolean' },
    out: { type: 'string' },
    merged: { type: 'boolean' },
    overwrite: { type: 'boolean' },
    repo: { type: 'string' },
    endpoint: { type: 'string' },
    private: { type: 'boolean' },
    'no-data': { type: 'boolean' },
    tinker: { type: 'boolean' },
    modal: { type: 'boolean' },
    gpu: { type: 'string' },
  });
  const [sub, id, ...rest] = positionals;
  const studio = await ctx.open();
  const reg = studio.registry;
  const need = (): string => {
    if (!id)
      throw new CliUsageError(
        `checkpoint ${sub ?? ''}: name a checkpoint id (see character checkpoint list)`,
      );
    return id;
  };
  const active = reg.active()?.id ?? null;
  const current = reg.current()?.id ?? null;
  switch (sub ?? 'list') {
    case 'list': {
      if (values.tinker) return listTinker(studio, ctx);
      const list = reg.list(values.run ? { runId: values.run } : undefined);
      ctx.result({ active, current, checkpoints: list });
      if (list.length === 0) ctx.print('no checkpoints yet: character pipeline beethoven --scale mini');
      for (const c of list) ctx.print(line(c, active, current));
      if (list.length > 0)
        ctx.print(
          '* = used by chat, sample and serve-model (the current one unless `checkpoint use` chose another)',
        );
      return 0;
    }
    case 'pull':
      return pullTinker(studio, need(), ctx);
    case 'deploy':
      return deployModal(studio, id, values, ctx);
    case 'info': {
      const c = reg.info(need());
      ctx.result(c);
      ctx.print(line(c, active, current));
      ctx.print(`path      ${c.path}${c.filesPresent ? '' : '  (files missing)'}`);
      ctx.print(`run       ${c.runId}`);
      ctx.print(
        `current   ${c.current ? 'yes' : 'no'}; history ${c.history.map((h) => `${h.action}@${h.at}`).join(', ') || 'none'}`,
      );
      ctx.print(`data hash ${c.lineage.dataHash}`);
      ctx.print(`config    ${JSON.stringify(c.lineage.config)}`);
      return 0;
    }
    case 'use': {
      const c = reg.use(need());
      const text = rest.join(' ').trim();
      if (!c || !text) {
        ctx.result({ active: c?.id ?? null });
        ctx.print(`active checkpoint: ${c?.id ?? 'none'} (chat and sample use it)`);
        return 0;
      }
      const chat = studio.chat;
      const session = chat.start(c.id, false);
      const reply = await chat.send(session.id, text, ctx.abort.signal);
      ctx.result({ active: c.id, ...reply });
      ctx.print(reply.student.content);
      return 0;
    }
    case 'promote': {
      const c = reg.promote(need());
      ctx.result(c);
      ctx.print(
        `promoted ${c.id}; promoted stack: ${reg
          .promoted()
          .map((p) => p.id)
          .join(' <- ')}`,
      );
      return 0;
    }
    case 'rollback': {
      const c = reg.rollback();
      ctx.result(c);
      ctx.print(c ? `rolled back: current is now ${c.id}` : 'nothing to roll back to');
      return c ? 0 : 1;
    }
    case 'delete': {
      reg.delete(need(), { removeFiles: values['remove-files'] === true });
      ctx.result({ deleted: id });
      ctx.print(`deleted ${id}${values['remove-files'] ? ' and its files' : ''}`);
      return 0;
    }
    case 'export': {
      const exported = await exportCheckpoint(studio, need(), {
        ...(values.out ? { outputDir: resolve(values.out) } : {}),
        merged: values.merged === true,
        overwrite: values.overwrite === true,
        signal: ctx.abort.signal,
      });
      ctx.result(exported);
      ctx.print(`exported ${id} to ${exported.dir}`);
      ctx.print(`  adapter + card + deploy_example.py; base: ${exported.base.name}`);
      if (exported.ggufLora) ctx.print(`  GGUF LoRA  ${exported.ggufLora}`);
      if (exported.modelfile)
        ctx.print(`  Modelfile  ${exported.modelfile}  (ollama create NAME -f Modelfile)`);
      if (exported.mergedDir) ctx.print(`  merged     ${exported.mergedDir}`);
      if (exported.ggufModel) ctx.print(`  merged GGUF ${exported.ggufModel}`);
      for (const note of exported.notes) ctx.print(`  note: ${note}`);
      return 0;
    }
    case 'push': {
      if (!values.repo)
        throw new CliUsageError(
          'checkpoint push <id> --repo owner/name [--endpoint URL] [--private] [--no-data]',
        );
      const pushed = await pushCheckpoint(studio, need(), {
        repoId: values.repo,
        ...(values.endpoint ? { endpoint: values.endpoint } : {}),
        private: values.private === true,
        withData: values['no-data'] !== true,
        signal: ctx.abort.signal,
      });
      ctx.result(pushed);
      ctx.print(`pushed ${id} to ${pushed.url} (commit ${pushed.commit}): ${pushed.files.join(', ')}`);
      return 0;
    }
    default:
      throw new CliUsageError(
        `checkpoint: unknown subcommand "${sub}": use list, info, use, delete, promote, rollback, export, push, pull or deploy`,
      );
  }
};
