/**
 * `ai-monitor tail` against a real server: driven in a pseudo-terminal it shows, in colour,
 * the interactions sent after it starts; piped it prints no colour codes; filters and --json;
 * it says when the connection is lost and picks up again after a server restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../helpers/server.js';
import { cli, freePort, ingest, record, startCli, startCliInPty, type Running } from './cli-helpers.js';

let server: RunningServer;
const running: Running[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
});

afterEach(async () => {
  while (running.length) await running.pop()!.stop('SIGKILL');
});

function track(r: Running): Running {
  running.push(r);
  return r;
}

/**
 * Sends records marked `marker` until the tail shows the marker (its subscription is live a
 * moment after it says "tailing"), at most 30 times.
 */
async function sendUntilShown(tail: Running, rec: Record<string, unknown>, marker: string, to: { url: string } = server): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await ingest(to, [rec]);
    try {
      await tail.waitFor(marker, 500);
      return;
    } catch {
      // not yet subscribed; send again
    }
  }
  throw new Error(`tail never showed ${marker}:\n${tail.output()}`);
}

describe('ai-monitor tail', () => {
  it('shows interactions sent after it starts, in colour on a terminal', async () => {
    const tail = track(startCliInPty(['tail', '--url', server.url, '--status-every', '1s']));
    await tail.waitFor('tailing');
    await sendUntilShown(tail, record({ intent: 'search', user_input: 'find the pty marker', session_id: 'pty-session', response_time_ms: 1234, tools_used: [{ tool: 'web_search', params: { q: 'x' } }] }), 'find the pty marker');
    await sendUntilShown(tail, record({ intent: 'code', user_input: 'failing pty marker', success: false, error_type: 'rate_limit', response_time_ms: 42_000 }), 'failing pty marker');
    const out = tail.output();
    const okLine = out.split('\n').find((l) => l.includes('find the pty marker'))!;
    expect(okLine).toContain('✓');
    expect(okLine).toContain('1.23 s');
    expect(okLine).toContain('search');
    expect(okLine).toContain('web_search');
    expect(okLine).toContain('pty-session');
    expect(okLine).toContain('\u001b[32m'); // green tick
    const badLine = out.split('\n').find((l) => l.includes('failing pty marker'))!;
    expect(badLine).toMatch(/✗ rate_limit/);
    expect(badLine).toContain('\u001b[31m'); // red cross
    expect(badLine).toContain('42.0 s');
    // The metrics status line.
    expect(out).toMatch(/── last 5m: [\d,]+ interactions · errors [\d.]+ % · p50 .* · p95 .* · p99 .* active sessions/);
  });

  /** Columns a line takes: colour codes none, CJK and emoji two (the only wide text sent here). */
  function columns(line: string): number {
    const plain = line.replace(/\u001b\[[0-9;]*m/g, '');
    let width = 0;
    for (const ch of plain) width += /[\u4e00-\u9fff]|\p{Emoji_Presentation}/u.test(ch) ? 2 : 1;
    return width;
  }

  it.each([60, 80, 120, 160, 200])('fits every line to a %i-column terminal and shows the session id whole or cut from the right', async (cols) => {
    const sessionId = `20261201_120000-w${cols}-a1f3`;
    const tail = track(startCliInPty(['tail', '--url', server.url, '--status-every', '1s'], { cols }));
    await tail.waitFor('tailing');
    const long = record({
      session_id: sessionId,
      intent: 'widthtest',
      assistant: 'helpdesk-assistant-with-a-long-name',
      success: false,
      error_type: 'rate_limit_exceeded_by_far',
      response_time_ms: 12_345,
      user_input: `Summarise the 季度 report "as quoted" \\ with 🎉 and a long tail ${'of words '.repeat(30)}`,
      tools_used: ['web_search', 'fetch_page', 'read_file', 'summarise'].map((tool) => ({ tool, params: {} })),
    });
    await sendUntilShown(tail, long, 'widthtest');
    const lines = tail.output().split(/\r?\n/);
    const shown = lines.filter((l) => l.includes('widthtest'));
    const status = lines.filter((l) => l.includes('── last 5m'));
    expect(shown.length).toBeGreaterThan(0);
    expect(status.length).toBeGreaterThan(0);
    for (const line of [...shown, ...status]) expect(columns(line), line).toBeLessThanOrEqual(cols);
    for (const line of shown) {
      const plain = line.replace(/\u001b\[[0-9;]*m/g, '');
      if (cols >= 80) expect(plain).toContain(` ${sessionId}`);
      else expect(plain).toMatch(/ 20261201_1\S*…$/); // too narrow for the id: cut from the right only
      if (cols >= 120) expect(plain).toContain('"Summarise the');
      if (cols >= 160) expect(plain).toContain('季度');
    }
  });

  it('prints no colour codes with NO_COLOR, even on a terminal', async () => {
    const tail = track(startCliInPty(['tail', '--url', server.url], { env: { NO_COLOR: '1' } }));
    await tail.waitFor('tailing');
    await sendUntilShown(tail, record({ user_input: 'no colour marker' }), 'no colour marker');
    expect(tail.output()).not.toContain('\u001b[');
  });

  it('filters by intent and failures, prints JSON lines when piped, and exits after --count', async () => {
    const tail = track(startCli(['tail', '--url', server.url, '--errors-only', '--filter-intent', 'translate', '--json', '--count', '1', '--status-every', '0s']));
    await tail.waitFor('tailing');
    // Only the third kind matches both filters; resend the batch until the tail has one.
    for (let i = 0; i < 30 && tail.proc.exitCode === null; i++) {
      await ingest(server, [
        record({ intent: 'translate', user_input: 'ok translate' }),
        record({ intent: 'search', user_input: 'failed search', success: false, error_type: 'timeout' }),
        record({ intent: 'translate', user_input: 'json marker', success: false, error_type: 'tool_error' }),
      ]);
      await Promise.race([tail.exited, new Promise((r) => setTimeout(r, 300))]);
    }
    expect(await tail.exited).toBe(0);
    const lines = tail.output().split('\n').filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!) as { type: string; intent: string; success: boolean; errorType: string; userInput: string };
    expect(event).toMatchObject({ type: 'interaction', intent: 'translate', success: false, errorType: 'tool_error', userInput: 'json marker' });
    expect(tail.output()).not.toContain('\u001b[');
  });

  it('says when the connection is lost and reconnects after the server restarts', async () => {
    const port = await freePort();
    const first = await startServer({ port });
    const tail = track(startCli(['tail', '--url', first.url, '--status-every', '0s']));
    try {
      await tail.waitFor('tailing');
      await first.stop();
      await tail.waitFor(/connection lost/);
      await tail.waitFor(/reconnecting in [\d.]+ s/);
      const second = await startServer({ port, dataDir: first.dataDir });
      try {
        await tail.waitFor('reconnected', 40_000);
        await sendUntilShown(tail, record({ user_input: 'after restart marker' }), 'after restart marker', second);
      } finally {
        await second.stop();
      }
    } finally {
      first.cleanup();
    }
  });

  it('fails with exit 1 when the server is unreachable', async () => {
    const port = await freePort();
    const r = await cli(['tail', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the server at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*ai-monitor serve/);
  });

  it.each([
    [['--window', 'forever'], /--window.*expected a duration/],
    [['--count', '0'], /--count.*between 1 and/],
    [['--status-every', 'often'], /--status-every.*expected a duration/],
    [['--url', 'http://exa mple'], /--url: not a valid URL/],
    [['--colour'], /unknown option '--colour'/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await cli(['tail', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('tail lines', () => {
  it('fit the terminal with Chinese input (two columns per character)', async () => {
    const { pathToFileURL } = await import('node:url');
    const { join } = await import('node:path');
    const { REPO_ROOT } = await import('../helpers/server.js');
    const fmt = (await import(pathToFileURL(join(REPO_ROOT, 'apps/api/dist/cli/tail-format.js')).href)) as typeof import('../../apps/api/src/cli/tail-format.js');
    const out = (await import(pathToFileURL(join(REPO_ROOT, 'apps/api/dist/cli/output.js')).href)) as typeof import('../../apps/api/src/cli/output.js');
    const row = {
      id: '1',
      sessionId: '20260217_143000-helpdesk-a1f3',
      timestamp: '2026-02-17T14:30:00.000Z',
      userInput: '帮我找一下关于电动汽车的最新文章，并且总结成三点，再翻译成英文发给李伟和张敏',
      intent: '搜索',
      toolsUsed: [{ tool: 'web_search', durationMs: 10, success: true }],
      responseTimeMs: 1234,
      success: true,
      errorType: null,
      assistant: '客服助手',
      model: null,
    };
    for (const width of [80, 100, 160]) {
      const line = fmt.interactionLine(row, (_style: unknown, text: string) => text, width);
      expect(out.displayWidth(line), line).toBeLessThanOrEqual(width);
      if (width >= 160) expect(line).toContain('帮我找一下');
    }
    expect(out.pad('搜索', 6)).toBe('搜索  ');
    expect(out.truncate('电动汽车', 5)).toBe('电动…');
  });
});
