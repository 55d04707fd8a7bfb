/** `character checkpoint list | info <id> | use <id> ["text"] | delete <id> | promote <id> | rollback`. */
import type { CheckpointRecord } from '../../store';
import { CliUsageError, type CommandFn } from '../context';
import { parseCommandArgs } from '../args';

function line(c: CheckpointRecord, active: string | null): string {
  const m = Object.entries(c.metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k}=${v.toFixed(3)}`)
    .join(' ');
  return `${c.id === active ? '*' : ' '} ${c.id}  ${c.state.padEnd(9)} step ${String(c.step).padStart(5)}  ${c.lineage.personaId} v${c.lineage.personaVersion}  ${m}`;
}

export const checkpointCommand: CommandFn = async (args, ctx) => {
  const { positionals, values } = parseCommandArgs('checkpoint', args, {
    run: { type: 'string' },
    'remove-files': { type: 'boolean' },
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
  switch (sub ?? 'list') {
    case 'list': {
      const list = reg.list(values.run ? { runId: values.run } : undefined);
      ctx.result({ active, checkpoints: list });
      if (list.length === 0) ctx.print('no checkpoints yet: character pipeline beethoven --scale mini');
      for (const c of list) ctx.print(line(c, active));
      return 0;
    }
    case 'info': {
      const c = reg.info(need());
      ctx.result(c);
      ctx.print(line(c, active));
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
    default:
      throw new CliUsageError(
        `checkpoint: unknown subcommand "${sub}": use list, info, use, delete, promote or rollback`,
      );
  }
};
