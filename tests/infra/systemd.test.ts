/**
 * Static checks of the systemd units in infra/systemd: the service has the required keys
 * (user, working directory, environment file, memory limit, restart policy, hardening), its
 * ExecStart runs the built CLI at the path the build produces, and the backup service and
 * timer point at infra/backup.sh daily at 02:00. When systemd-analyze is installed, `verify`
 * must report no unknown keys or unparsable values.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { resolve, join, posix } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(import.meta.dirname, '../..');
const DIR = join(ROOT, 'infra/systemd');

type Unit = Record<string, Record<string, string[]>>;

/** systemd unit files: [Section], Key=value (repeatable), comments, backslash continuations. */
function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section: string | undefined;
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[([A-Za-z]+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      unit[section] ??= {};
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv) throw new Error(`line ${i + 1}: cannot parse "${line}"`);
    if (!section) throw new Error(`line ${i + 1}: key outside a section`);
    (unit[section]![kv[1]!] ??= []).push(kv[2]!.trim());
  }
  return unit;
}

const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const serviceText = read('ai-monitor.service');
const service = parseUnit(serviceText);
const svc = service.Service!;
const get = (key: string): string | undefined => svc[key]?.at(-1);

/** The CLI path the Dockerfile runs, relative to the application root. */
function dockerCliPath(): string {
  const m = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))!;
  return (JSON.parse(m[1]!) as string[])[1]!;
}

const ANALYZE = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;

describe('infra/systemd/ai-monitor.service', () => {
  it('parses into [Unit], [Service] and [Install]', () => {
    expect(Object.keys(service)).toEqual(['Unit', 'Service', 'Install']);
    expect(service.Unit!.Description?.[0]).toMatch(/ai-monitor/);
    expect(service.Unit!.After?.[0]).toContain('network-online.target');
    expect(service.Install!.WantedBy).toEqual(['multi-user.target']);
  });

  it('runs the built CLI from /opt/ai-monitor as a dedicated user', () => {
    expect(get('User')).toBe('ai-monitor');
    expect(get('Group')).toBe('ai-monitor');
    expect(get('WorkingDirectory')).toBe('/opt/ai-monitor');
    expect(get('EnvironmentFile')).toBe('-/etc/ai-monitor/env');
    const exec = get('ExecStart')!.split(/\s+/);
    expect(exec).toEqual(['/usr/bin/node', '/opt/ai-monitor/apps/api/dist/cli.js', 'serve']);
    // Same script as the image runs, and as the api package's bin.
    expect(posix.relative(get('WorkingDirectory')!, exec[1]!)).toBe(dockerCliPath());
    // The bin is a committed launcher that loads the built CLI.
    const api = JSON.parse(readFileSync(join(ROOT, 'apps/api/package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = posix.join('apps/api', api.bin['ai-monitor']!);
    const loads = /new URL\('([^']+)', import\.meta\.url\)/.exec(readFileSync(join(ROOT, bin), 'utf8'))![1]!;
    expect(posix.join(posix.dirname(bin), loads)).toBe(dockerCliPath());
    expect(get('Type')).toBe('simple');
  });

  it('restarts on failure, stops with SIGTERM, and logs to the journal', () => {
    expect(get('Restart')).toBe('on-failure');
    expect(get('KillSignal')).toBe('SIGTERM');
    expect(get('StandardOutput')).toBe('journal');
    expect(get('SyslogIdentifier')).toBe('ai-monitor');
  });

  it('limits memory to 1G, with the seed\'s MemoryLimit= for old systemd as a comment', () => {
    expect(get('MemoryMax')).toBe('1G');
    expect(svc.MemoryLimit, 'MemoryLimit= is deprecated: a comment only').toBeUndefined();
    expect(serviceText).toMatch(/^#\s*MemoryLimit=1G\s*$/m);
  });

  it('is hardened, with only the data directory writable', () => {
    expect(get('NoNewPrivileges')).toBe('yes');
    expect(get('ProtectSystem')).toBe('strict');
    expect(get('PrivateTmp')).toBe('yes');
    expect(get('ProtectHome')).toBe('yes');
    const env = Object.fromEntries((svc.Environment ?? []).map((e) => e.split('=', 2) as [string, string]));
    const dataDir = env.AI_MONITOR_DATA_DIR ?? posix.join(get('WorkingDirectory')!, 'monitoring_data');
    expect(dataDir).toBe('/opt/ai-monitor/monitoring_data');
    expect(get('ReadWritePaths')!.split(/\s+/)).toContain(dataDir);
    expect(env.AI_MONITOR_PORT).toBe('8765');
    // V8 needs writable+executable memory for its JIT.
    expect(svc.MemoryDenyWriteExecute).toBeUndefined();
  });
});

describe('infra/systemd backup service and timer', () => {
  const backup = parseUnit(read('ai-monitor-backup.service'));
  const timer = parseUnit(read('ai-monitor-backup.timer'));

  it('runs infra/backup.sh as the service user, with the backup directory writable', () => {
    const s = backup.Service!;
    expect(s.Type).toEqual(['oneshot']);
    expect(s.User).toEqual(['ai-monitor']);
    const exec = s.ExecStart![0]!.split(/\s+/)[0]!;
    expect(exec.startsWith('/opt/ai-monitor/')).toBe(true);
    expect(existsSync(join(ROOT, exec.slice('/opt/ai-monitor/'.length)))).toBe(true);
    const env = Object.fromEntries((s.Environment ?? []).map((e) => e.split('=', 2) as [string, string]));
    const writable = s.ReadWritePaths![0]!.split(/\s+/);
    expect(writable).toContain(env.AI_MONITOR_BACKUP_DIR);
    expect(writable).toContain(env.AI_MONITOR_DATA_DIR);
    expect(env.AI_MONITOR_BACKUP_KEEP_DAYS).toBe('30');
  });

  it('the timer fires daily at 02:00 and catches up missed runs', () => {
    expect(timer.Timer!.OnCalendar).toEqual(['*-*-* 02:00:00']);
    expect(timer.Timer!.Persistent).toEqual(['true']);
    expect(timer.Install!.WantedBy).toEqual(['timers.target']);
  });
});

describe.skipIf(!ANALYZE)('systemd-analyze verify', () => {
  it.each(['ai-monitor.service', 'ai-monitor-backup.service', 'ai-monitor-backup.timer'])('%s has no unknown keys or bad values', (name) => {
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(DIR, name)], { encoding: 'utf8', cwd: DIR });
    // Paths and users of the target machine (/opt/ai-monitor, user ai-monitor) do not exist
    // here; everything else it reports about the file is an error.
    const problems = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => l.includes(name) && /:\d+:/.test(l));
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
