/**
 * `ai-monitor backup` and `restore`: a backup taken while the server ingests is one consistent
 * snapshot; restored into a new data directory, a server started on it serves those records.
 * Restore refuses a database in use, files that are not ai-monitor databases and newer schemas;
 * backups older than --keep-days are deleted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gql, startServer, type RunningServer } from '../helpers/server.js';
import { cli, eventually, ingest, record, startCli, storedCount } from './cli-helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ai-monitor-backup-'));
const servers: RunningServer[] = [];

afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  rmSync(scratch, { recursive: true, force: true });
});

async function serve(opts: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

interface Snapshot {
  interactions: number;
  rollupCount: number;
  sessionInteractions: number;
  integrity: string;
  version: number;
  journal: string;
  someId: string;
}

function inspect(file: string): Snapshot {
  const db = new Database(file, { readonly: true });
  try {
    const n = (sql: string): number => (db.prepare(sql).get() as { n: number | null }).n ?? 0;
    return {
      interactions: n('SELECT count(*) AS n FROM interactions'),
      rollupCount: n('SELECT sum(count) AS n FROM rollup_minute'),
      sessionInteractions: n('SELECT sum(interactions) AS n FROM sessions'),
      integrity: (db.pragma('integrity_check', { simple: true }) as string),
      version: db.pragma('user_version', { simple: true }) as number,
      journal: db.pragma('journal_mode', { simple: true }) as string,
      someId: (db.prepare('SELECT id FROM interactions ORDER BY seq DESC LIMIT 1').get() as { id: string }).id,
    };
  } finally {
    db.close();
  }
}

describe('ai-monitor backup and restore', () => {
  let backupFile = '';
  let snapshot: Snapshot;
  let source: RunningServer;

  it('takes a consistent online backup while the server is ingesting', async () => {
    source = await serve();
    const demo = startCli(['demo', '--url', source.url, '--rate', '3000', '--quiet']);
    try {
      await eventually(async () => ((await storedCount(source)) >= 2000 ? true : undefined), 200, 100);
      const r = await cli(['backup', '--data-dir', source.dataDir, '--dir', join(scratch, 'backups')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/backing up .*realtime_monitoring\.db \(.*\) to .*backup_\d{8}_\d{6}\.db/);
      expect(r.stdout).toMatch(/verified: integrity ok, schema v\d+, [\d,]+ interactions/);
      backupFile = /backup written: (\S+)/.exec(r.stdout)![1]!;
      // Still ingesting after the backup: the server was never paused.
      const atBackup = await storedCount(source);
      await eventually(async () => ((await storedCount(source)) > atBackup ? true : undefined), 100, 100);
    } finally {
      expect(await demo.stop('SIGINT')).toBe(0);
    }
    snapshot = inspect(backupFile);
    expect(snapshot.integrity).toBe('ok');
    expect(snapshot.interactions).toBeGreaterThanOrEqual(2000);
    // Every committed transaction is in it whole: rows, roll-ups and sessions agree.
    expect(snapshot.rollupCount).toBe(snapshot.interactions);
    expect(snapshot.sessionInteractions).toBe(snapshot.interactions);
    // A self-contained file: no WAL needed beside it.
    expect(snapshot.journal).toBe('delete');
    expect(existsSync(`${backupFile}-wal`)).toBe(false);
    expect(await storedCount(source)).toBeGreaterThan(snapshot.interactions);
  });

  it('restores into a new data directory, and a server started on it serves those records', async () => {
    const dataDir = join(scratch, 'restored');
    const r = await cli(['restore', backupFile, '--data-dir', dataDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`restored ${backupFile} to ${join(dataDir, 'realtime_monitoring.db')}`);
    expect(r.stdout).not.toContain('previous database kept');
    const restored = await serve({ dataDir });
    expect(await storedCount(restored)).toBe(snapshot.interactions);
    const one = await gql<{ interaction: { id: string } | null }>(restored, 'query($id: ID!) { interaction(id: $id) { id } }', { id: snapshot.someId });
    expect(one.data?.interaction?.id).toBe(snapshot.someId);
  });

  it('refuses to restore while a server is using the database, and changes nothing', async () => {
    const busy = await serve();
    await ingest(busy, [record({ user_input: 'keep me' })]);
    const r = await cli(['restore', backupFile, '--data-dir', busy.dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is in use by another process \(a running ai-monitor server\?\)\. Stop the server first/);
    expect(readdirSync(busy.dataDir).filter((f) => f.includes('before-restore') || f.includes('.partial'))).toEqual([]);
    expect(await storedCount(busy)).toBe(1);
    const health = await fetch(`${busy.url}/health`);
    expect(health.status).toBe(200);
  });

  it('keeps the current database aside when restoring over it', async () => {
    const dataDir = join(scratch, 'over');
    const current = await startServer({ dataDir });
    await ingest(current, [record({ user_input: 'old one' }), record({ user_input: 'old two' })]);
    await current.stop();
    const r = await cli(['restore', backupFile, '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    const kept = /previous database kept as (\S+)/.exec(r.stdout)![1]!;
    expect(kept).toMatch(/realtime_monitoring\.db\.before-restore-\d{8}_\d{6}$/);
    expect(inspect(kept).interactions).toBe(2);
    expect(inspect(join(dataDir, 'realtime_monitoring.db')).interactions).toBe(snapshot.interactions);
    expect(readdirSync(dataDir).filter((f) => f.endsWith('-wal') || f.endsWith('-shm') || f.endsWith('.partial'))).toEqual([]);
  });

  it('refuses files that are not ai-monitor databases, and newer schemas', async () => {
    const target = join(scratch, 'target');
    const text = join(scratch, 'notes.db');
    writeFileSync(text, 'not a database, only words '.repeat(100));
    let r = await cli(['restore', text, '--data-dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/notes\.db is not a usable SQLite database: .*not a database/);

    const other = join(scratch, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE things (a)');
    db.close();
    r = await cli(['restore', other, '--data-dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/other\.db is not an ai-monitor database/);

    const newer = join(scratch, 'newer.db');
    const copy = new Database(backupFile, { readonly: true });
    await copy.backup(newer);
    copy.close();
    const handle = new Database(newer);
    handle.pragma('user_version = 99');
    handle.close();
    r = await cli(['restore', newer, '--data-dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/schema version 99, newer than this ai-monitor supports/);
    expect(existsSync(join(target, 'realtime_monitoring.db'))).toBe(false);
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
  });

  it('replaces a corrupt current database only with --force', async () => {
    const dataDir = join(scratch, 'corrupt');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'realtime_monitoring.db'), 'garbage '.repeat(512));
    let r = await cli(['restore', backupFile, '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot use .*realtime_monitoring\.db: .*run again with --force/);
    r = await cli(['restore', backupFile, '--data-dir', dataDir, '--force']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replacing it anyway (--force)');
    expect(inspect(join(dataDir, 'realtime_monitoring.db')).interactions).toBe(snapshot.interactions);
  });

  it('deletes backups older than --keep-days and keeps the rest', async () => {
    const dir = join(scratch, 'rotation');
    mkdirSync(dir, { recursive: true });
    const old = join(dir, 'backup_20200101_020000.db');
    const recent = join(dir, 'backup_20200102_020000.db');
    const unrelated = join(dir, 'notes_old.db');
    for (const f of [old, recent, unrelated]) writeFileSync(f, 'x');
    const days = (n: number): Date => new Date(Date.now() - n * 86_400_000);
    utimesSync(old, days(40), days(40));
    utimesSync(unrelated, days(40), days(40));
    utimesSync(recent, days(3), days(3));
    const r = await cli(['backup', '--data-dir', source.dataDir, '--dir', dir, '--keep-days', '30']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deleted 1 backup(s) older than 30 days: ${old}`);
    const left = readdirSync(dir).sort();
    expect(left).toContain('backup_20200102_020000.db');
    expect(left).toContain('notes_old.db');
    expect(left).not.toContain('backup_20200101_020000.db');
    expect(left.filter((f) => /^backup_\d{8}_\d{6}(_\d+)?\.db$/.test(f))).toHaveLength(2);
  });

  it.each([
    [['backup', '--keep-days', '-1'], 2, /--keep-days.*between 0 and/],
    [['backup', '--keep-days', 'many'], 2, /--keep-days.*whole number/],
    [['backup', '--data-dir', '/nonexistent/ai-monitor'], 2, /no database at \/nonexistent\/ai-monitor\/realtime_monitoring\.db/],
    [['backup', '--compress'], 2, /unknown option '--compress'/],
    [['restore'], 2, /missing required argument 'file'/],
    [['restore', '/nonexistent/backup.db'], 2, /backup file \/nonexistent\/backup\.db does not exist/],
    [['restore', '/tmp', '--data-dir', '/tmp/x'], 2, /backup file \/tmp is not a file/],
  ])('%j exits %i with a clear message', async (args, code, message) => {
    const r = await cli(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});
