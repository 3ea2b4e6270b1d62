/**
 * The dashboard as a newcomer sees it, with demo traffic in it, in real Chromium at 1440 px
 * and 390 px, light and dark: tables scroll inside their cards instead of clipping or
 * widening the page, words are not broken in the middle, ids stay on one line, the feed
 * dates records that are not from today, feedback shows its scale, and the first-run snippets
 * run as shown put a record in the dashboard's default range. Screenshots of every page go
 * to tests/output/screenshots/layout-*.png. Loopback only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { InteractionWire } from '@ai-monitor/schema';
import { REPO_ROOT, gql, startServer, type RunningServer } from '../helpers/server.js';
import { CSRF, assertDashboardBuilt, launchBrowser, openPage, screenshot, sendSeed, type SeedRecord } from './support.js';

const run = promisify(execFile);
const POLL = { timeout: 20_000, interval: 200 };
const WIDE = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const LONG_SESSION = '20260217_143000-helpdesk-assistant-5f3a9c1e-7d42-4b8e-9a61-0c2f3d4e5a6b';

let server: RunningServer;
let browser: Browser;

type TrafficModule = typeof import('../../apps/api/src/cli/demo-traffic.js');

/** Twenty minutes of demo traffic ending now, from the demo's own model on a simulated clock. */
async function demoTraffic(): Promise<InteractionWire[]> {
  const mod = (await import(pathToFileURL(join(REPO_ROOT, 'apps/api/dist/cli/demo-traffic.js')).href)) as TrafficModule;
  const model = new mod.TrafficModel({ assistants: 6, bursts: false, seed: 2026 });
  const start = Date.now() - 20 * 60_000;
  const out: InteractionWire[] = [];
  for (let i = 0; i < 1200; i++) out.push(model.next(new Date(start + i * 1000), i).record);
  return out;
}

async function send(records: (InteractionWire | SeedRecord)[]): Promise<void> {
  for (let i = 0; i < records.length; i += 400) await sendSeed(server.wsUrl, records.slice(i, i + 400) as SeedRecord[], { batch: true });
}

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** Widths that overflow: the page itself, and every cell whose content is wider than the cell. */
async function overflows(page: Page, cells: string): Promise<{ page: number; cells: string[] }> {
  return page.evaluate((selector) => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(selector)) {
      if (el.scrollWidth > el.clientWidth + 1) bad.push(`${el.className}: ${el.textContent?.trim().slice(0, 40)}`);
    }
    return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, cells: bad };
  }, cells);
}

describe('first run', () => {
  it('puts the record of each snippet, run exactly as shown, in the default range', async () => {
    const { page, context } = await openPage(browser, `${server.url}/`, { viewport: WIDE });
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), POLL).toBe('live');
    const start = page.getByRole('region', { name: 'Send your first interaction' });
    await start.waitFor({ timeout: 20_000 });
    await screenshot(page, 'layout-first-run-wide');
    for (const scheme of ['light', 'dark'] as const) {
      const phone = await openPage(browser, `${server.url}/`, { viewport: PHONE, isMobile: true, colorScheme: scheme });
      await phone.page.getByRole('region', { name: 'Send your first interaction' }).waitFor({ timeout: 20_000 });
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
      // The Copy button does not cover the code, and the three tabs sit on one row.
      const layout = await phone.page.evaluate(() => {
        const panel = [...document.querySelectorAll<HTMLElement>('[role=tabpanel]')].find((p) => !p.hidden)!;
        const copy = panel.querySelector('button')!.getBoundingClientRect();
        const pre = panel.querySelector('pre')!.getBoundingClientRect();
        const tabs = [...document.querySelectorAll('[role=tab]')].map((t) => Math.round(t.getBoundingClientRect().top));
        return { overlap: copy.bottom > pre.top && copy.top < pre.bottom, tabRows: new Set(tabs).size };
      });
      expect(layout).toEqual({ overlap: false, tabRows: 1 });
      await screenshot(phone.page, `layout-first-run-phone-${scheme}`);
      await phone.context.close();
    }
    const snippet = async (tab: string): Promise<string> => {
      await page.getByRole('tab', { name: tab }).click();
      return (await page.getByRole('tabpanel', { name: tab }).locator('pre').textContent()) ?? '';
    };
    const python = await snippet('WebSocket');
    const curl = await snippet('HTTP (curl)');
    const mutation = await snippet('GraphQL');
    // No fixed date: a record dated 2026-02-17 would land outside every default range.
    expect(python).not.toMatch(/20\d\d-\d\d-\d\d/);
    expect(curl).not.toMatch(/20\d\d-\d\d-\d\d/);
    expect(mutation).not.toMatch(/20\d\d-\d\d-\d\d/);
    expect(python).toContain('"type": "metrics"');

    // The curl command, run by a shell as shown; the mutation, as GraphiQL sends it.
    const r = await run('sh', ['-c', curl]);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 1 });
    const g = await gql<{ recordInteraction: { id: string } }>(server, mutation, undefined, CSRF);
    expect(g.errors).toBeUndefined();
    // The Python snippet, as shown, when a Python with the `websockets` package is at hand
    // (AI_MONITOR_TEST_PYTHON names it; the snippet says to pip install it).
    const python3 = process.env.AI_MONITOR_TEST_PYTHON ?? 'python3';
    const hasWebsockets = await run(python3, ['-c', 'import websockets']).then(
      () => true,
      () => false,
    );
    if (hasWebsockets) {
      const dir = mkdtempSync(join(tmpdir(), 'snippet-'));
      try {
        writeFileSync(join(dir, 'snippet.py'), python);
        await run(python3, [join(dir, 'snippet.py')], { timeout: 30_000 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      console.warn(`layout.test: ${python3} has no "websockets" module; the Python snippet was not run`);
    }
    const expected = hasWebsockets ? 3 : 2;
    // The overview's defaults: the tiles' last 5 minutes and the charts' default range.
    await expect.poll(async () => (await page.locator('[data-kpi="throughput"]').textContent()) ?? '', POLL).toContain(`${expected} in the last 5 min`);
    const feed = page.getByRole('region', { name: 'Newest interactions' });
    await expect.poll(() => feed.locator('tr[data-interaction]').count(), POLL).toBe(expected);
    const m = await gql<{ metrics: { count: number } }>(server, '{ metrics(window: "1h") { count } }', undefined, CSRF);
    expect(m.data?.metrics.count).toBe(expected);
    await context.close();
  }, 90_000);
});

describe('pages with demo traffic', () => {
  let detailId = '';

  beforeAll(async () => {
    const yesterday = new Date(Date.now() - 26 * 3_600_000);
    await send([
      ...(await demoTraffic()),
      {
        session_id: LONG_SESSION,
        timestamp: yesterday.toISOString(),
        user_input: 'summarize yesterday’s incident report on the payment-gateway latency regression',
        intent: 'summarize_incident_report',
        tools_used: [{ tool: 'read_document', params: { doc_id: 'incident-4711', topic: 'payment-gateway latency' }, duration_ms: 320 }],
        response_time_ms: 2400,
        success: true,
        error_type: null,
        feedback_score: 4,
      } as SeedRecord,
      // Three failures in a row: an alert to show.
      ...[1, 2, 3].map((i) => ({
        session_id: LONG_SESSION,
        user_input: `retry ${i}`,
        intent: 'summarize',
        tools_used: [{ tool: 'fetch_page', params: { url: 'https://example.org/down' }, success: false, error: 'HTTP 502 from upstream' }],
        response_time_ms: 30_500,
        success: false,
        error_type: 'tool_error',
      })),
    ]);
    const r = await gql<{ interactions: { edges: { node: { id: string } }[] } }>(
      server,
      `{ interactions(first: 1, filter: { search: "incident report" }) { edges { node { id } } } }`,
      undefined,
      CSRF,
    );
    detailId = r.data!.interactions.edges[0]!.node.id;
  }, 120_000);

  const pages = (): [string, string][] => [
    ['overview', '/'],
    ['explorer', '/interactions'],
    ['detail', `/interactions/${detailId}`],
    ['sessions', '/sessions'],
    ['session', `/sessions/${encodeURIComponent(LONG_SESSION)}`],
    ['alerts', '/alerts'],
  ];

  it('explorer at 1440 px: no cell overflows, no word is cut, session ids stay on one line', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/interactions`, { viewport: WIDE });
    const table = page.locator('table.interactions');
    await expect.poll(() => table.locator('tr[data-interaction]').count(), POLL).toBe(50);
    const o = await overflows(page, 'table.interactions td');
    expect(o.cells).toEqual([]);
    expect(o.page).toBeLessThanOrEqual(0);
    // Each intent and tool name sits whole on a line: a line break only after a separator.
    const cut = await page.evaluate(() => {
      const bad: string[] = [];
      for (const cell of document.querySelectorAll<HTMLElement>('table.interactions td.intent, table.interactions td.tools')) {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const words = (cell.textContent ?? '').split(/[\s_\-./,]+/).filter(Boolean);
        // A word on two lines makes more line boxes than the separators allow.
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        if (lines > words.length) bad.push(cell.textContent ?? '');
        // The cell is at least as wide as its longest word.
        const probe = document.createElement('span');
        probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;font:inherit';
        cell.append(probe);
        for (const w of words) {
          probe.textContent = w;
          if (probe.getBoundingClientRect().width > cell.clientWidth) bad.push(w);
        }
        probe.remove();
      }
      return bad;
    });
    expect(cut).toEqual([]);
    // "summarize" fits on one line in its cell.
    const summarize = table.locator('td.intent', { hasText: /^summarize$/ }).first();
    const lineHeight = await summarize.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
    expect((await summarize.evaluate((el) => el.getBoundingClientRect().height)) - lineHeight).toBeLessThan(lineHeight);
    // Session ids: one line each (height of a single line box), the long one ends in an ellipsis.
    const heights = await table.locator('td.session a').evaluateAll((els) =>
      els.map((el) => ({ rects: el.getClientRects().length, height: el.getBoundingClientRect().height, line: parseFloat(getComputedStyle(el).lineHeight) })),
    );
    expect(heights.length).toBe(50);
    for (const h of heights) {
      expect(h.rects).toBe(1);
      expect(h.height).toBeLessThan(1.5 * h.line);
    }
    expect(errors).toEqual([]);
    await screenshot(page, 'layout-explorer-wide');
    await context.close();
  });

  it('at 390 px tables scroll inside their cards and the page never scrolls sideways', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/`, { viewport: PHONE, isMobile: true });
    const toolCard = page.locator('.breakdowns .card', { has: page.getByRole('heading', { name: 'By tool' }) });
    await expect.poll(() => toolCard.locator('tbody tr').count(), POLL).toBeGreaterThan(5);
    // The tool table: every column inside its card (it fits, or its container scrolls).
    const tool = await toolCard.evaluate((card) => {
      const box = card.querySelector<HTMLElement>('.scroll-x')!;
      const last = card.querySelector<HTMLElement>('thead th:last-child')!;
      return {
        overflowX: getComputedStyle(box).overflowX,
        fits: box.scrollWidth <= box.clientWidth,
        lastRight: last.getBoundingClientRect().right,
        boxRight: box.getBoundingClientRect().right,
        cardOverflow: card.scrollWidth - card.clientWidth,
      };
    });
    expect(tool.overflowX).toBe('auto');
    expect(tool.cardOverflow).toBeLessThanOrEqual(0);
    if (tool.fits) expect(tool.lastRight).toBeLessThanOrEqual(tool.boxRight + 1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);

    // The sessions table is wider than a phone: it scrolls inside its card, ids and dates on one line.
    await page.goto(`${server.url}/sessions`);
    const sessions = page.locator('main table');
    await expect.poll(() => sessions.locator('tbody tr').count(), POLL).toBeGreaterThan(10);
    const box = await page.locator('main .card .scroll-x').evaluate((el) => ({ overflowX: getComputedStyle(el).overflowX, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
    expect(box.overflowX).toBe('auto');
    expect(box.scrollWidth).toBeGreaterThan(box.clientWidth);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    const rows = await sessions.locator('tbody tr').evaluateAll((trs) =>
      trs.slice(0, 10).map((tr) => {
        const td = tr.querySelector('td')!;
        return { height: tr.getBoundingClientRect().height, line: parseFloat(getComputedStyle(td).lineHeight) };
      }),
    );
    for (const r of rows) expect(r.height).toBeLessThan(2.2 * r.line);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("dates a feed row that is not from today, and shows feedback with its scale", async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/`, { viewport: WIDE });
    const feed = page.getByRole('region', { name: 'Newest interactions' });
    await expect.poll(() => feed.locator('tr[data-interaction]').count(), POLL).toBe(50);
    // The live stream flows once a fresh record shows up (sent again until the page has subscribed).
    const fresh = feed.locator('tr', { hasText: 'fresh record of today' });
    let probes = 0;
    const probe = async (): Promise<number> => {
      const n = await fresh.count();
      if (n === 0) await send([{ session_id: 'late-1', user_input: `fresh record of today ${probes++}`, intent: 'search', tools_used: [], response_time_ms: 500, success: true, error_type: null }]);
      return n;
    };
    await expect.poll(probe, { timeout: 30_000, interval: 1_000 }).toBeGreaterThan(0);
    const yesterday = new Date(Date.now() - 24 * 3_600_000);
    // A late record of yesterday arrives live.
    await send([{ session_id: 'late-1', timestamp: yesterday.toISOString(), user_input: 'late report from yesterday', intent: 'search', tools_used: [], response_time_ms: 800, success: true, error_type: null }]);
    const row = feed.locator('tr', { hasText: 'late report from yesterday' });
    await row.waitFor({ timeout: 20_000 });
    const label = yesterday.toLocaleString('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
    expect(await row.locator('td.time').textContent()).toContain(label);
    // Today's rows show the time only.
    const today = fresh.first();
    expect(await today.locator('td.time').textContent()).not.toMatch(/[A-Z][a-z]{2} \d/);

    await page.goto(`${server.url}/interactions/${detailId}`);
    await expect.poll(async () => (await page.locator('[data-feedback]').textContent()) ?? '', POLL).toBe('4 / 5');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('takes screenshots of every page, wide and narrow, light and dark', async () => {
    for (const [width, viewport] of [
      ['wide', WIDE],
      ['phone', PHONE],
    ] as const) {
      for (const scheme of ['light', 'dark'] as const) {
        const { page, context, errors } = await openPage(browser, `${server.url}/`, { viewport, colorScheme: scheme, isMobile: width === 'phone' });
        for (const [name, path] of pages()) {
          await page.goto(`${server.url}${path}`);
          await page.locator('main h1').first().waitFor({ timeout: 20_000 });
          await page.waitForLoadState('networkidle').catch(() => undefined);
          await screenshot(page, `layout-${name}-${width}-${scheme}`);
          // No page scrolls sideways.
          expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), `${name} ${width}`).toBeLessThanOrEqual(0);
        }
        expect(errors).toEqual([]);
        await context.close();
      }
    }
  }, 300_000);
});
