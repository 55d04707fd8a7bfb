import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupsDir, databasePath } from '../../../src-main/core/paths';
import { LATEST_SCHEMA_VERSION } from '../../../src-main/store';
import { BACKUPS_KEPT, backupIfDue, checkIntegrity, listBackups } from '../../../src-main/store/backup';
import { openDataStore } from '../../../src-main/store/open';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'studio-schema-1.sqlite');
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'backup-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('database backups', () => {
  it('copies the database with the backup API before migrating it', async () => {
    copyFileSync(FIXTURE, databasePath(home));
    const store = await openDataStore(home);
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    store.close();
    const [backup] = listBackups(home);
    expect(backup?.reason).toBe(`before-v${LATEST_SCHEMA_VERSION}`);
    const copy = new Database(backup!.path, { readonly: true });
    expect(copy.pragma('user_version', { simple: true })).toBe(1); // as it was before
    copy.close();
    expect(checkIntegrity(backup!.path, true)).toEqual([]);
    // Opening again migrates nothing; the backup of a moment ago is recent enough.
    (await openDataStore(home)).close();
    expect(listBackups(home)).toHaveLength(1);
  });

  it('backs up daily, and keeps the newest few', async () => {
    const store = await openDataStore(home);
    try {
      expect((await backupIfDue(store.db, home))?.endsWith('-daily.sqlite')).toBe(true);
      expect(await backupIfDue(store.db, home)).toBeNull(); // one a day
      const tomorrow = new Date(Date.now() + 25 * 60 * 60 * 1000);
      expect(await backupIfDue(store.db, home, tomorrow)).not.toBeNull();
      // Old ones beyond BACKUPS_KEPT go, oldest first.
      mkdirSync(backupsDir(home), { recursive: true });
      for (let i = 1; i <= BACKUPS_KEPT; i++)
        writeFileSync(
          join(backupsDir(home), `studio-202001${String(i).padStart(2, '0')}T000000000Z-old.sqlite`),
          '',
        );
      await backupIfDue(store.db, home, new Date(Date.now() + 3 * 24 * 60 * 60 * 1000));
      const kept = listBackups(home);
      expect(kept).toHaveLength(BACKUPS_KEPT);
      expect(kept.filter((b) => b.reason === 'daily')).toHaveLength(3);
      expect(kept[kept.length - 1]?.createdAt.toISOString()).toBe('2020-01-04T00:00:00.000Z');
    } finally {
      store.close();
    }
  });
});
