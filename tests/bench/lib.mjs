/** Shared pieces of the benchmark: server processes, record generation, percentiles, output. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'apps/api/dist/cli.js');

export function tempDir(prefix = 'ai-monitor-bench-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `ai-monitor serve` on a free loopback port; resolves when it is listening. */
export async function startServer({ dataDir = tempDir(), env = {}, args = [] } = {}) {
  const proc = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, AI_MONITOR_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  // Readiness is the `listening on` line; LOG_LEVEL warn hides it, so poll /health instead.
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    proc.once('exit', (code) => reject(new Error(`server exited ${code}:\n${out}`)));
    const check = () => {
      const m = /listening on https?:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      } else setTimeout(check, 50);
    };
    check();
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: proc.pid,
    dataDir,
    async stop(removeData = true) {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const INTENTS = ['search', 'summarize', 'code', 'translate', 'schedule', 'chitchat'];
const TOOLS = ['web_search', 'read', 'write', 'calendar', 'python'];

/** A realistic seed-protocol record (snake_case), deterministic from `i`. */
export function makeRecord(i, at = Date.now()) {
  const ok = i % 20 !== 0;
  return {
    session_id: `bench-${Math.floor(i / 8)}`,
    timestamp: new Date(at).toISOString(),
    user_input: `benchmark question ${i} about something the user wants`,
    intent: INTENTS[i % INTENTS.length],
    tools_used: i % 3 === 0 ? [] : [{ tool: TOOLS[i % TOOLS.length], params: { q: `q${i % 100}` }, duration_ms: 20 + (i % 50) }],
    response_time_ms: 200 + ((i * 7919) % 3000),
    success: ok,
    error_type: ok ? null : 'timeout',
  };
}

export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
}

/** One row of the results table. `better` says which direction meets the goal. */
export function row(name, value, unit, goal, better = 'higher', baseline = '') {
  const met = goal === undefined ? '' : better === 'higher' ? value >= goal : value <= goal;
  return { name, value, unit, goal, better, met, baseline };
}

export function printTable(rows) {
  const lines = rows.map((r) => [
    r.name,
    `${fmt(r.value, r.unit === 'ms' ? 1 : r.unit === '×' ? 2 : 0)} ${r.unit}`,
    r.goalText ?? (r.goal === undefined ? '(reported)' : `${r.better === 'higher' ? '≥' : '≤'} ${fmt(r.goal)} ${r.unit}`),
    r.met === '' ? '' : r.met ? 'met' : 'MISSED',
    r.baseline,
  ]);
  const head = ['measure', 'measured', 'goal', '', 'baseline'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const out = (cells) => console.log(cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd());
  out(head);
  out(widths.map((w) => '-'.repeat(w)));
  for (const l of lines) out(l);
}

export async function rssOf(pid) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}
