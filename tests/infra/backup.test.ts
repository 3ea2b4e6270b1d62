/**
 * infra/backup.sh and infra/backup.cron: syntax (bash -n, shellcheck when installed), usage
 * and exit codes, the CLI contract (`backup --data-dir D --dir B --keep-days N`, checked with a
 * stand-in CLI), the sqlite3 ".backup" fallback on a live WAL database, the lock, and, when the
 * built `ai-monitor` supports `backup`, a real online backup of a running server's database.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  readFileSync,
  writeFileSync,
  mkdtempSync,
  mkdirSync,
  rmSync,
  statSync,
  existsSync,
  readdirSync,
  utimesSync,
  copyFileSync,
  chmodSync,
} from 'node:fs';
import { resolve, join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'infra/backup.sh');
const CLI = join(ROOT, 'apps/api/dist/cli.js');
const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as typeof import('better-sqlite3');

const has = (cmd: string, ...args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const SHELLCHECK = has('shellcheck', '--version');
const SQLITE3 = has('sqlite3', '-version');
const FLOCK = has('flock', '--version');

/** Whether the built CLI has the `backup` command yet (others are building it). */
function cliSupportsBackup(): boolean {
  if (!existsSync(CLI)) return false;
  const r = spawnSync(process.execPath, [CLI, 'backup', '--help'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 && /--keep-days/.test(r.stdout + r.stderr);
}
const CLI_BACKUP = cliSupportsBackup();
if (!CLI_BACKUP) {
  console.warn(
    'tests/infra/backup.test.ts: apps/api/dist/cli.js has no `backup` command (yet); ' +
      'the end-to-end backup of a running server is skipped. Build with `npx turbo run build`.',
  );
}

const dirs: string[] = [];
function tmp(prefix = 'ai-monitor-backup-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
/** Runs backup.sh with a clean AI_MONITOR_* environment (and no /etc/ai-monitor/env). */
function run(args: string[], env: Record<string, string> = {}, script = SCRIPT): Run {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AI_MONITOR_')) childEnv[k] = v;
  Object.assign(childEnv, { AI_MONITOR_ENV_FILE: '/dev/null' }, env);
  const r = spawnSync('bash', [script, ...args], { env: childEnv, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const show = (r: Run): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** A data directory with a WAL-mode database that has rows, held open by a writer. */
function liveDatabase(rows = 500): { dataDir: string; db: import('better-sqlite3').Database } {
  const dataDir = tmp();
  const db = new Database(join(dataDir, 'realtime_monitoring.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE interactions (id INTEGER PRIMARY KEY, intent TEXT)');
  const ins = db.prepare('INSERT INTO interactions (intent) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) ins.run(`intent-${i}`);
  })();
  return { dataDir, db };
}

const backups = (dir: string): string[] => readdirSync(dir).filter((f) => /^backup_\d{8}_\d{6}\.db$/.test(f)).sort();
const daysAgo = (file: string, days: number): void => {
  const t = Date.now() / 1000 - days * 86400;
  utimesSync(file, t, t);
};
const countRows = (file: string, table: string): number => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('infra/backup.sh: static checks', () => {
  it('is an executable bash script with strict mode', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(statSync(SCRIPT).mode & 0o111, 'executable bit').not.toBe(0);
  });

  it('passes bash -n', () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it.skipIf(!SHELLCHECK)('passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['-x', SCRIPT], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('keeps the seed defaults: /backups/ai-monitor, 30 days, backup_YYYYMMDD_HHMMSS.db', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    expect(text).toContain('AI_MONITOR_BACKUP_DIR:-/backups/ai-monitor');
    expect(text).toContain('AI_MONITOR_BACKUP_KEEP_DAYS:-30');
    expect(text).toContain('backup_$(date +%Y%m%d_%H%M%S).db');
  });
});

describe('infra/backup.cron', () => {
  const text = readFileSync(join(ROOT, 'infra/backup.cron'), 'utf8');
  const jobs = text.split('\n').filter((l) => /^[\d*]/.test(l.trim()));

  it('runs backup.sh daily at 02:00 as the service user (cron.d format)', () => {
    expect(jobs).toHaveLength(1);
    const f = jobs[0]!.trim().split(/\s+/);
    expect(f.slice(0, 5)).toEqual(['0', '2', '*', '*', '*']);
    expect(f[5], 'cron.d user field').toBe('ai-monitor');
    expect(f[6]).toBe('/opt/ai-monitor/infra/backup.sh');
    expect(text.endsWith('\n'), 'cron ignores a last line without a newline').toBe(true);
  });

  it('documents the seed\'s crontab line and installs under a name without a dot', () => {
    expect(text).toMatch(/0 2 \* \* \* \/opt\/ai-monitor\/infra\/backup\.sh/);
    expect(text).toMatch(/\/etc\/cron\.d\/ai-monitor-backup\b(?!\.)/);
  });
});

describe('infra/backup.sh: usage and errors', () => {
  it('--help prints usage and exits 0', () => {
    const r = run(['--help']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Usage: infra\/backup\.sh/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('exits 2 on bad arguments and settings', () => {
    for (const args of [['--bogus'], ['-k', 'soon'], ['-m', 'tar'], ['-d']]) {
      const r = run(args);
      expect(r.code, `${args.join(' ')}: ${show(r)}`).toBe(2);
      expect(r.stderr).toMatch(/error:/);
    }
    const pg = run([], { AI_MONITOR_STORAGE: 'postgres' });
    expect(pg.code, show(pg)).toBe(2);
    expect(pg.stderr).toMatch(/pg_dump/);
  });

  it('exits 3 when there is no database', () => {
    const r = run(['-d', tmp(), '-o', tmp()]);
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toMatch(/no database at .*realtime_monitoring\.db/);
  });

  it('exits 4 with -m cli when no CLI can be found', () => {
    // A copy of the script outside the repository finds no apps/api/dist/cli.js beside it.
    const tree = tmp();
    mkdirSync(join(tree, 'infra'));
    copyFileSync(SCRIPT, join(tree, 'infra/backup.sh'));
    chmodSync(join(tree, 'infra/backup.sh'), 0o755);
    const { dataDir, db } = liveDatabase(1);
    db.close();
    const r = run(['-m', 'cli', '-d', dataDir, '-o', tmp()], { PATH: '/usr/bin:/bin' }, join(tree, 'infra/backup.sh'));
    expect(r.code, show(r)).toBe(4);
    expect(r.stderr).toMatch(/CLI was not found/);
  });

  it('reads the data directory from the systemd environment file, below the environment', () => {
    const fromFile = tmp();
    const fromEnv = tmp();
    const envFile = join(tmp(), 'env');
    writeFileSync(envFile, `# settings\nAI_MONITOR_INGEST_TOKENS=secret\nAI_MONITOR_DATA_DIR="${fromFile}"\n`);
    const r = run(['-o', tmp()], { AI_MONITOR_ENV_FILE: envFile });
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toContain(join(fromFile, 'realtime_monitoring.db'));
    const r2 = run(['-o', tmp()], { AI_MONITOR_ENV_FILE: envFile, AI_MONITOR_DATA_DIR: fromEnv });
    expect(r2.code, show(r2)).toBe(3);
    expect(r2.stderr).toContain(join(fromEnv, 'realtime_monitoring.db'));
  });
});

describe('infra/backup.sh: the ai-monitor CLI contract (stand-in CLI)', () => {
  let fake: string;
  beforeAll(() => {
    const dir = tmp();
    fake = join(dir, 'fake-cli.cjs');
    // Records its arguments, then behaves like `ai-monitor backup` (or fails, per FAKE_MODE).
    writeFileSync(
      fake,
      `const fs = require('node:fs'); const path = require('node:path');
const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
const argv = process.argv.slice(2);
fs.writeFileSync(process.env.FAKE_ARGS_OUT, JSON.stringify(argv));
if (process.env.FAKE_MODE === 'fail') { console.error('backup exploded'); process.exit(7); }
if (process.env.FAKE_MODE === 'nothing') process.exit(0);
const opt = (n) => argv[argv.indexOf(n) + 1];
const d = new Date(); const p = (x) => String(x).padStart(2, '0');
const name = 'backup_' + d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + '_' + p(d.getHours()) + p(d.getMinutes()) + p(d.getSeconds()) + '.db';
const db = new Database(path.join(opt('--data-dir'), 'realtime_monitoring.db'));
db.backup(path.join(opt('--dir'), name)).then(() => { db.close(); });
`,
    );
  });

  it('runs `<bin> backup --data-dir D --dir B --keep-days N` and reports the new file', () => {
    const { dataDir, db } = liveDatabase(200);
    const out = tmp();
    const argsFile = join(tmp(), 'args.json');
    const r = run(['-d', dataDir, '-o', out, '-k', '7'], {
      AI_MONITOR_BIN: `${process.execPath} ${fake}`,
      FAKE_ARGS_OUT: argsFile,
    });
    db.close();
    expect(r.code, show(r)).toBe(0);
    expect(JSON.parse(readFileSync(argsFile, 'utf8'))).toEqual(['backup', '--data-dir', dataDir, '--dir', out, '--keep-days', '7']);
    const files = backups(out);
    expect(files).toHaveLength(1);
    expect(r.stdout).toContain(`backup written: ${join(out, files[0]!)}`);
    expect(countRows(join(out, files[0]!), 'interactions')).toBe(200);
  });

  it('exits 1 when the CLI fails, or succeeds without writing a backup', () => {
    const { dataDir, db } = liveDatabase(1);
    db.close();
    for (const mode of ['fail', 'nothing']) {
      const r = run(['-d', dataDir, '-o', tmp()], {
        AI_MONITOR_BIN: `${process.execPath} ${fake}`,
        FAKE_ARGS_OUT: join(tmp(), 'args.json'),
        FAKE_MODE: mode,
      });
      expect(r.code, `${mode}: ${show(r)}`).toBe(1);
    }
  });
});

describe.skipIf(!SQLITE3)('infra/backup.sh: sqlite3 ".backup" fallback', () => {
  it('copies a live WAL database consistently, verifies it, and deletes backups older than N days', () => {
    const { dataDir, db } = liveDatabase(1000);
    const out = join(tmp(), 'backups with space');
    mkdirSync(out);
    const old = join(out, 'backup_20000101_000000.db');
    const recent = join(out, 'backup_20000102_000000.db');
    writeFileSync(old, '');
    writeFileSync(recent, '');
    daysAgo(old, 40);
    daysAgo(recent, 10);
    // Uncheckpointed rows in the WAL must be in the copy.
    db.pragma('wal_autocheckpoint = 0');
    db.prepare('INSERT INTO interactions (intent) VALUES (?)').run('in-the-wal');
    const r = run(['-m', 'sqlite3', '-d', dataDir, '-o', out, '-k', '30']);
    db.close();
    expect(r.code, show(r)).toBe(0);
    expect(existsSync(old), 'older than 30 days: deleted').toBe(false);
    expect(existsSync(recent), 'within 30 days: kept').toBe(true);
    const made = backups(out).filter((f) => !f.startsWith('backup_2000'));
    expect(made).toHaveLength(1);
    const file = join(out, made[0]!);
    expect(countRows(file, 'interactions')).toBe(1001);
    expect(readdirSync(out).filter((f) => /-(wal|shm)$|\.partial$/.test(f)), 'no side files').toEqual([]);
    expect(r.stdout).toMatch(/deleted old backup .*backup_20000101_000000\.db/);
  });

  it.skipIf(!FLOCK)('exits 5 while another backup holds the lock', async () => {
    const { dataDir, db } = liveDatabase(1);
    db.close();
    const out = tmp();
    // One process that holds the lock itself (exec), so killing it releases the lock.
    const holder = spawn('bash', ['-c', 'exec 9>"$1"; flock 9; exec sleep 30', 'holder', join(out, '.backup.lock')], {
      stdio: 'ignore',
    });
    try {
      // Wait until the lock is taken.
      for (let i = 0; i < 100 && spawnSync('flock', ['-n', join(out, '.backup.lock'), 'true']).status === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = run(['-m', 'sqlite3', '-d', dataDir, '-o', out]);
      expect(r.code, show(r)).toBe(5);
    } finally {
      holder.kill('SIGTERM');
      await once(holder, 'exit');
    }
  });
});

describe('infra/backup.sh against a running server', () => {
  it.skipIf(!CLI_BACKUP)(
    'backs up a live server with `ai-monitor backup` (needs the built CLI with `backup`)',
    async () => {
      const { startServer } = await import('../helpers/server.js');
      const { default: WebSocket } = await import('ws');
      const server = await startServer();
      try {
        // Record interactions over the seed WebSocket protocol and wait for the acks.
        const N = 25;
        const ws = new WebSocket(server.wsUrl);
        await once(ws, 'open');
        const acked = new Promise<void>((resolveAcks, reject) => {
          let acks = 0;
          const timer = setTimeout(() => reject(new Error(`only ${acks}/${N} acks`)), 15_000);
          ws.on('message', (data) => {
            const msg = JSON.parse(String(data)) as { type: string };
            if (msg.type === 'ack' && ++acks === N) {
              clearTimeout(timer);
              resolveAcks();
            }
          });
        });
        for (let i = 0; i < N; i++) {
          ws.send(
            JSON.stringify({
              type: 'metrics',
              data: {
                session_id: 'backup-test',
                timestamp: new Date().toISOString(),
                user_input: `question ${i}`,
                intent: 'read',
                tools_used: [{ tool: 'read', params: {} }],
                response_time_ms: 100 + i,
                success: true,
                error_type: null,
              },
            }),
          );
        }
        await acked;
        ws.close();

        const out = tmp();
        const old = join(out, 'backup_20000101_000000.db');
        writeFileSync(old, '');
        daysAgo(old, 40);
        const r = run(['-m', 'cli', '-d', server.dataDir, '-o', out, '-k', '30'], { AI_MONITOR_BIN: `${process.execPath} ${CLI}` });
        expect(r.code, show(r)).toBe(0);
        const made = backups(out);
        expect(made, 'one new backup, the 40-day-old one deleted').toHaveLength(1);
        expect(countRows(join(out, made[0]!), 'interactions')).toBeGreaterThanOrEqual(N);
        // The server kept running through the backup.
        const health = await fetch(`${server.url}/health`);
        expect(health.status).toBe(200);
      } finally {
        await server.stop();
        server.cleanup();
      }
    },
    90_000,
  );
});
