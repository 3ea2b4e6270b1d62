/**
 * `ai-monitor serve` logs human lines with the URLs to open when standard output is a
 * terminal, and JSON lines when it is a pipe or a file; AI_MONITOR_LOG_FORMAT / --log-format
 * force either. The `listening on http://HOST:PORT` line appears in every mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDataDir } from '../helpers/server.js';
import { readyUrls } from '../../apps/api/src/cli/serve.js';
import { cli, startCli, startCliInPty, type Running } from './cli-helpers.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const READY = /listening on (https?:\/\/[^\s"\u001b]+)/;

const running: Running[] = [];
const dirs: string[] = [];

function dataDir(): string {
  const d = makeDataDir();
  dirs.push(d);
  return d;
}

function track(r: Running): Running {
  running.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function plain(output: string): string {
  return output.replace(ANSI, '').replace(/\r/g, '');
}

/** Port from the ready line; checks the server answers there, on loopback. */
async function assertServing(output: string): Promise<number> {
  const port = Number(new URL(READY.exec(plain(output))![1]!).port);
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  expect(res.status).toBe(200);
  return port;
}

function jsonLines(output: string): Record<string, unknown>[] {
  return plain(output)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('serve: log format', () => {
  it('prints human lines with the dashboard, GraphiQL and seed socket URLs on a terminal (localhost for 0.0.0.0)', async () => {
    const dir = dataDir();
    const logFile = join(dir, 'server.log');
    const server = track(startCliInPty(['serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', dir], { env: { AI_MONITOR_LOG_FILE: logFile, AI_MONITOR_LOG_LEVEL: 'info' } }));
    await server.waitFor(/seed socket\s+ws:\/\/localhost:\d+/, 30_000);
    const out = plain(server.output());
    const port = await assertServing(out);
    expect(out).toContain(`listening on http://0.0.0.0:${port}`);
    expect(out).toMatch(new RegExp(`dashboard\\s+http://localhost:${port}/\\n`));
    expect(out).toMatch(new RegExp(`GraphiQL\\s+http://localhost:${port}/graphql\\n`));
    expect(out).toMatch(new RegExp(`seed socket\\s+ws://localhost:${port}\\n`));
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening on/m);
    // Not a JSON line in sight on the terminal.
    expect(out).not.toMatch(/^\{"level"/m);
    // The log file stays JSON, with the URLs as fields (it is written asynchronously).
    const readyInFile = (): Record<string, unknown> | undefined =>
      jsonLines(readFileSync(logFile, 'utf8')).find((l) => l.msg === `listening on http://0.0.0.0:${port}`);
    await expect.poll(readyInFile, { timeout: 20_000, interval: 200 }).toBeDefined();
    expect(readyInFile()?.urls).toEqual({ dashboard: `http://localhost:${port}/`, graphiql: `http://localhost:${port}/graphql`, seed: `ws://localhost:${port}` });
  });

  it('prints only JSON lines when standard output is a pipe', async () => {
    const server = track(startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir()], { env: { AI_MONITOR_LOG_LEVEL: 'info' } }));
    await server.waitFor(READY, 30_000);
    const port = await assertServing(server.output());
    await server.stop();
    const lines = jsonLines(server.output());
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const ready = lines.find((l) => l.msg === `listening on http://127.0.0.1:${port}`);
    expect(ready?.urls).toEqual({ dashboard: `http://127.0.0.1:${port}/`, graphiql: `http://127.0.0.1:${port}/graphql`, seed: `ws://127.0.0.1:${port}` });
    expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
  });

  it('AI_MONITOR_LOG_FORMAT=json keeps JSON on a terminal; --log-format pretty gives human lines in a pipe', async () => {
    const onTty = track(startCliInPty(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir()], { env: { AI_MONITOR_LOG_FORMAT: 'json', AI_MONITOR_LOG_LEVEL: 'info' } }));
    await onTty.waitFor(READY, 30_000);
    await assertServing(onTty.output());
    for (const line of jsonLines(onTty.output())) expect(line.level).toBeTypeOf('number');

    const piped = track(startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir(), '--log-format', 'pretty'], { env: { AI_MONITOR_LOG_LEVEL: 'info', NO_COLOR: '1' } }));
    await piped.waitFor(/seed socket\s+ws:\/\/127\.0\.0\.1:\d+/, 30_000);
    const port = await assertServing(piped.output());
    expect(piped.output()).toMatch(new RegExp(`INFO: listening on http://127\\.0\\.0\\.1:${port}\\n\\s+dashboard\\s+http://127\\.0\\.0\\.1:${port}/`));
    // NO_COLOR is honoured.
    expect(piped.output()).not.toContain('\u001b[');
  });

  it('shows localhost for the any-address (IPv4 and IPv6), wss for TLS, and GraphiQL only when enabled', () => {
    expect(readyUrls({ url: 'http://[::]:8765' }, true)).toEqual({ dashboard: 'http://localhost:8765/', graphiql: 'http://localhost:8765/graphql', seed: 'ws://localhost:8765' });
    expect(readyUrls({ url: 'https://10.0.0.5:9000' }, false)).toEqual({ dashboard: 'https://10.0.0.5:9000/', graphiql: undefined, seed: 'wss://10.0.0.5:9000' });
    expect(readyUrls({ url: 'http://[::1]:8765' }, true).seed).toBe('ws://[::1]:8765');
  });

  it('refuses an unknown format, naming the setting (exit 2)', async () => {
    const r = await cli(['serve', '--port', '0', '--data-dir', dataDir()], { env: { AI_MONITOR_LOG_FORMAT: 'xml' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/logFormat: must be auto, json or pretty/);
  });
});
