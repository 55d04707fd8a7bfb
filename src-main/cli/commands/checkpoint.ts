/** `character checkpoint list | info <id> | use <id> ["text"] | delete <id> | promote <id> | rollback`. */
import type { CheckpointRecord } from '../../store';
import { NotFoundError, PipelineError } from '../../pipeline/errors';
import { chatService } from '../../pipeline/service';
import { CliUsageError, type CommandFn } from '../context';
import { parseCommandArgs } from '../main';

function line(c: CheckpointRecord, active: string | null): string {
  const m = Object.entries(c.metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k}=${v.toFixed(3)}`)
    .join(' ');
  return `${c.id === active ? '*' : ' '} ${c.id}  ${c.state.padEnd(9)} step ${String(c.step).padStart(5)}  ${c.lineage.personaId} v${c.lineage.personaVersion}  ${m}`;
}

export const checkpointCommand: CommandFn = async (args, ctx) => {
  const { positionals, values } = parseCommandArgs('checkpoint', args, { run: { type: 'string' } });
  const [sub, id, ...rest] = positionals;
  const studio = await ctx.open();
  const { store, settings } = studio;
  const need = (): CheckpointRecord => {
    if (!id)
      throw new CliUsageError(
        `checkpoint ${sub ?? ''}: name a checkpoint id (see character checkpoint list)`,
      );
    const c = store.checkpoints.get(id);
    if (!c) throw new NotFoundError('checkpoint', id);
    return c;
  };
  const active = settings.get('activeCheckpointId');
  switch (sub ?? 'list') {
    case 'list': {
      const list = store.checkpoints.list(values.run ? { runId: values.run } : undefined);
      ctx.result(list);
      if (list.length === 0) ctx.print('no checkpoints yet: character pipeline beethoven --scale mini');
      for (const c of list) ctx.print(line(c, active));
      return 0;
    }
    case 'info': {
      const c = need();
      ctx.result(c);
      ctx.print(line(c, active));
      ctx.print(`path      ${c.path}`);
      ctx.print(`run       ${c.runId}`);
      ctx.print(`data hash ${c.lineage.dataHash}`);
      ctx.print(`config    ${JSON.stringify(c.lineage.config)}`);
      return 0;
    }
    case 'use': {
      const c = need();
      settings.set('activeCheckpointId', c.id);
      const text = rest.join(' ').trim();
      if (!text) {
        ctx.result({ active: c.id });
        ctx.print(`active checkpoint: ${c.id} (chat and sample use it)`);
        return 0;
      }
      const chat = chatService(studio);
      const session = chat.start(c.id, false);
      const reply = await chat.send(session.id, text, ctx.abort.signal);
      ctx.result({ active: c.id, ...reply });
      ctx.print(reply.student.content);
      return 0;
    }
    case 'delete':
    case 'promote':
    case 'rollback': {
      throw new PipelineError(`checkpoint ${sub}: the registry (src-main/registry) has not landed yet`);
    }
    default:
      throw new CliUsageError(
        `checkpoint: unknown subcommand "${sub}": use list, info, use, delete, promote or rollback`,
      );
  }
};
