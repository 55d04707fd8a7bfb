/**
 * The checkpoint registry: list, info, use (set the active checkpoint), delete, promote and
 * rollback. The promotion gate lives in evaluation/gate.ts (the one gate evaluate.ts applies) and
 * is re-exported here.
 *
 * Promotion keeps a history: the promoted checkpoints form a stack ordered by their latest
 * promotion, the top is "current". The last KEEP_PROMOTED stay 'promoted'; older ones become
 * 'archived' (their folders may be deleted when the caller asks). Rollback archives the current
 * one and makes the previous promoted one current again. The current and the previous promoted
 * checkpoints are never deleted.
 */
import { StudioError } from '../core/errors';
import { isInsideDir } from '../core/paths';
import { existsSync, rmSync } from 'node:fs';
import type { CheckpointRow } from '../../src-shared/contract';
import type { CheckpointRecord, Store } from '../store';

export { promotionGate, type PromotionGateInput, type PromotionGateResult } from '../evaluation/gate';

export const KEEP_PROMOTED = 3;
const ACTIVE_KEY = 'registry.active_checkpoint';

/** An unknown checkpoint (not_found), or one the registry's rules protect (conflict). */
export class RegistryError extends StudioError {
  constructor(
    message: string,
    detail: Record<string, unknown> = {},
    code: 'not_found' | 'conflict' = 'conflict',
  ) {
    super(message, code, detail);
  }
}

export interface RegistryOptions {
  /** Delete an archived checkpoint's folder when it falls out of the kept promotions (default false). */
  deleteArchivedFiles?: boolean;
}

export interface CheckpointInfo extends CheckpointRecord {
  current: boolean;
  active: boolean;
  /** Promotion events of this checkpoint, oldest first. */
  history: { action: 'promote' | 'rollback'; at: string }[];
  filesPresent: boolean;
}

export interface Registry {
  list(filter?: { runId?: string; state?: CheckpointRow['state'] }): CheckpointRecord[];
  info(id: string): CheckpointInfo;
  /** The promoted stack, current first. */
  promoted(): CheckpointRecord[];
  current(): CheckpointRecord | null;
  /** The checkpoint chat and sampling use: one chosen with use(), else the current promoted one. */
  active(): CheckpointRecord | null;
  use(id: string | null): CheckpointRecord | null;
  promote(id: string): CheckpointRecord;
  /** Archives the current promoted checkpoint and restores the previous one; null when there is none. */
  rollback(): CheckpointRecord | null;
  delete(id: string, opts?: { removeFiles?: boolean }): void;
  /** An explicit id (which must exist), else the active checkpoint, else the newest, else null. */
  resolve(id: string | null): string | null;
}

export function createRegistry(store: Store, opts: RegistryOptions = {}): Registry {
  /** Promoted checkpoints ordered by their latest promote/rollback event, newest first. */
  const stack = (): CheckpointRecord[] => {
    const order = new Map<string, number>();
    for (const e of store.checkpoints.promotions()) order.set(e.checkpointId, e.id);
    return store.checkpoints
      .list({ state: 'promoted' })
      .sort((a, b) => (order.get(b.id) ?? 0) - (order.get(a.id) ?? 0));
  };

  /** Files are deleted only inside the store's data folder (a copy never deletes the original's). */
  const deletable = (path: string): boolean =>
    store.dataDir !== null && path !== '' && isInsideDir(store.dataDir, path) && path !== store.dataDir;

  const archive = (c: CheckpointRecord, allowFiles: boolean): void => {
    store.checkpoints.update(c.id, { state: 'archived' });
    if (allowFiles && opts.deleteArchivedFiles && deletable(c.path) && existsSync(c.path)) {
      rmSync(c.path, { recursive: true, force: true });
    }
  };

  const reg: Registry = {
    list: (filter) => store.checkpoints.list(filter),
    info: (id) => {
      const c = store.checkpoints.get(id);
      if (!c) throw new RegistryError(`Unknown checkpoint ${id}`, { id }, 'not_found');
      return {
        ...c,
        current: reg.current()?.id === id,
        active: reg.active()?.id === id,
        history: store.checkpoints
          .promotions()
          .filter((e) => e.checkpointId === id)
          .map((e) => ({ action: e.action, at: e.createdAt })),
        filesPresent: existsSync(c.path),
      };
    },
    promoted: () => stack(),
    current: () => stack()[0] ?? null,
    active: () => {
      const chosen = store.kv.get(ACTIVE_KEY);
      const c = chosen ? store.checkpoints.get(chosen) : null;
      return c ?? reg.current();
    },
    use: (id) => {
      if (id === null) {
        store.kv.set(ACTIVE_KEY, null);
        return reg.current();
      }
      const c = store.checkpoints.get(id);
      if (!c) throw new RegistryError(`Unknown checkpoint ${id}`, { id }, 'not_found');
      store.kv.set(ACTIVE_KEY, id);
      return c;
    },
    promote: (id) => {
      const c = store.checkpoints.get(id);
      if (!c) throw new RegistryError(`Unknown checkpoint ${id}`, { id }, 'not_found');
      if (!existsSync(c.path)) {
        throw new RegistryError(`Checkpoint ${id} has no files at ${c.path}; it cannot be promoted`, {
          id,
          path: c.path,
        });
      }
      const toDelete: CheckpointRecord[] = [];
      const promoted = store.transaction(() => {
        const p = store.checkpoints.update(id, { state: 'promoted', promotedAt: new Date().toISOString() });
        store.checkpoints.recordPromotion(id, 'promote');
        // The new current plus the previous ones up to KEEP_PROMOTED; the rest are archived.
        for (const old of stack().slice(KEEP_PROMOTED)) {
          store.checkpoints.update(old.id, { state: 'archived' });
          toDelete.push(old);
        }
        store.kv.set(ACTIVE_KEY, null);
        return p;
      });
      // Files go only after the database agrees; the kept stack (current and previous included) is untouched.
      for (const old of toDelete) archive(old, true);
      return promoted;
    },
    rollback: () => {
      const s = stack();
      const [cur, prev] = s;
      if (!cur || !prev) return null;
      return store.transaction(() => {
        store.checkpoints.update(cur.id, { state: 'archived' });
        store.checkpoints.recordPromotion(prev.id, 'rollback');
        store.kv.set(ACTIVE_KEY, null);
        return store.checkpoints.require(prev.id);
      });
    },
    resolve: (id) => {
      if (id) {
        if (!store.checkpoints.get(id))
          throw new RegistryError(`Unknown checkpoint ${id}`, { id }, 'not_found');
        return id;
      }
      const active = reg.active();
      if (active) return active.id;
      const newest = store.checkpoints.list().sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
      return newest?.id ?? null;
    },
    delete: (id, delOpts = {}) => {
      const c = store.checkpoints.get(id);
      if (!c) throw new RegistryError(`Unknown checkpoint ${id}`, { id }, 'not_found');
      const [cur, prev] = stack();
      if (cur?.id === id || prev?.id === id) {
        throw new RegistryError(
          `Checkpoint ${id} is the ${cur?.id === id ? 'current' : 'previous'} promoted adapter and cannot be deleted`,
          {
            id,
          },
        );
      }
      if (delOpts.removeFiles && !deletable(c.path)) {
        throw new RegistryError(
          `Checkpoint ${id}'s folder ${c.path} is outside the data folder ${store.dataDir ?? '(none: an in-memory store)'}; nothing was deleted`,
          { id, path: c.path, dataDir: store.dataDir },
        );
      }
      store.transaction(() => {
        if (store.kv.get(ACTIVE_KEY) === id) store.kv.set(ACTIVE_KEY, null);
        store.checkpoints.delete(id);
      });
      if (delOpts.removeFiles && existsSync(c.path)) rmSync(c.path, { recursive: true, force: true });
    },
  };
  return reg;
}
