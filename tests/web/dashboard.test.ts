/**
 * The dashboard in real Chromium against the real server: live tiles, charts, breakdowns and
 * feed without reload, the explorer with URL filters and cursor pages, the detail and
 * session views, the alerts area, keyboard use, narrow and dark layouts, and recovery after
 * the server is killed and restarted on the same port and data directory. Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { gql, startServer, type RunningServer } from '../helpers/server.js';
import { CSRF, assertDashboardBuilt, launchBrowser, openPage, recordGraphql, screenshot, seedRecord, sendSeed, type OpenedPage } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };

let server: RunningServer;
/** Temporary data directories to remove at the end (a restarted server does not own its directory). */
const cleanups: (() => void)[] = [];
let browser: Browser;
let main: OpenedPage;
let page: Page;

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const first = server;
  cleanups.push(() => first.cleanup());
  main = await openPage(browser, `${server.url}/`);
  page = main.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  for (const cleanup of cleanups) cleanup();
});

const kpi = (name: string) => page.locator(`[data-kpi="${name}"]`);
const text = async (selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

describe('dashboard, live', () => {
  it('greets a new user with ways to send a first interaction and shows the link state', async () => {
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), POLL).toBe('live');
    const start = page.getByRole('region', { name: 'Send your first interaction' });
    await start.waitFor({ timeout: 20_000 });
    const host = new URL(server.url).host;
    expect(await start.textContent()).toContain(`ws://${host}/`);
    expect(await start.textContent()).toContain('"type": "metrics"');
    await page.getByRole('tab', { name: 'HTTP (curl)' }).click();
    expect(await start.textContent()).toContain(`http://${host}/api/interactions`);
    await page.getByRole('tab', { name: 'GraphQL' }).click();
    expect(await start.textContent()).toContain('recordInteraction');
    expect(await start.getByRole('link', { name: 'GraphiQL' }).getAttribute('href')).toBe('/graphql');
    expect(await page.locator('figure[data-chart] canvas').count()).toBeGreaterThanOrEqual(3);
    await screenshot(page, 'overview-empty');
  });

  it('shows interactions from the seed socket and from GraphQL in tiles, charts, breakdowns and feed without a reload', async () => {
    const records = [0, 1, 2, 3, 4, 5].map((i) =>
      seedRecord(i, {
        environment: i % 2 ? 'staging' : 'production',
        ...(i % 3 === 2 ? { success: false, error_type: 'timeout', user_input: `failing question ${i}` } : { user_input: `seed question ${i}` }),
      }),
    );
    await sendSeed(server.wsUrl, records);
    await recordGraphql(server, {
      sessionId: 'gql-session',
      userInput: 'What is the weather in Paris?',
      intent: 'weather',
      toolsUsed: [{ tool: 'geo_lookup', params: { city: 'Paris', country: 'FR' }, durationMs: 42, success: true }],
      responseTimeMs: 2500,
      success: true,
    });
    await recordGraphql(server, { sessionId: 'gql-session', userInput: 'Book a table', intent: 'booking', responseTimeMs: 900, success: false, errorType: 'tool_error' });

    // Tiles: 8 interactions in the window, 3 of them failed.
    await expect.poll(async () => (await kpi('throughput').textContent()) ?? '', POLL).toContain('8 in the last 5 min');
    await expect.poll(async () => (await kpi('error-rate').textContent()) ?? '', POLL).toContain('3 of 8 failed');
    expect(await kpi('error-rate').textContent()).toContain('37.5 %');
    expect(await kpi('sessions').textContent()).toMatch(/\b4\b/);
    expect(await kpi('p95').textContent()).toMatch(/\d/);

    // Feed: newest on top, both ingest paths.
    const feed = page.getByRole('region', { name: 'Newest interactions' });
    await expect.poll(() => feed.locator('tr[data-interaction]').count(), POLL).toBe(8);
    expect(await feed.locator('tr[data-interaction]').first().textContent()).toContain('Book a table');
    expect(await feed.textContent()).toContain('seed question 0');

    // Charts: canvases drawn, legends carry the latest values.
    await expect.poll(async () => Number(await page.locator('figure[data-chart="Throughput"] [data-series="interactions"]').getAttribute('data-value')), POLL).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.locator('figure[data-chart="Error rate"] [data-series="errors"]').getAttribute('data-value')), POLL).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.locator('figure[data-chart="Response time"] [data-series="p95"]').getAttribute('data-value')), POLL).toBeGreaterThan(0);
    expect(await page.locator('figure[data-chart="Response time"] canvas').count()).toBe(1);

    // Breakdowns by intent, tool and error type.
    const breakdowns = page.getByRole('region', { name: 'Breakdowns' });
    // Refreshed at most every few seconds, so wait for the last of them.
    await expect.poll(async () => (await breakdowns.textContent()) ?? '', POLL).toContain('tool_error');
    expect(await breakdowns.textContent()).toContain('booking');
    expect(await breakdowns.textContent()).toContain('geo_lookup');

    // The greeting goes once something arrived.
    expect(await page.getByRole('region', { name: 'Send your first interaction' }).count()).toBe(0);
    expect(main.errors).toEqual([]);
    await screenshot(page, 'overview');
  });

  it('changes the charts range from the picker and keeps it in the URL', async () => {
    await page.getByRole('button', { name: 'Last 24 h' }).click();
    await expect.poll(() => page.url(), POLL).toContain('range=24h');
    await expect.poll(async () => Number(await page.locator('figure[data-chart="Throughput"] [data-series="interactions"]').getAttribute('data-value')), POLL).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Custom…' }).click();
    const from = page.getByLabel('From');
    expect(await from.inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.url(), POLL).toMatch(/from=.*&to=/);
    await page.getByRole('button', { name: 'Last hour' }).click();
    await expect.poll(() => page.url(), POLL).not.toContain('from=');
  });

  it('filters the explorer through the URL and pages with the cursor', async () => {
    await page.getByRole('link', { name: 'Explorer' }).click();
    await page.waitForURL(/\/interactions$/);
    const results = page.locator('tr[data-interaction]');
    await expect.poll(() => results.count(), POLL).toBe(8);

    await page.getByLabel('Intent', { exact: true }).fill('weather');
    await page.getByLabel('Intent', { exact: true }).press('Enter');
    await expect.poll(() => page.url(), POLL).toContain('intent=weather');
    await expect.poll(() => results.count(), POLL).toBe(3);
    for (const row of await results.all()) expect(await row.textContent()).toContain('weather');

    // The failures: two calendar questions and the booking.
    await page.getByLabel('Intent', { exact: true }).fill('');
    await page.getByLabel('Result', { exact: true }).selectOption('false');
    await expect.poll(() => page.url(), POLL).toMatch(/\/interactions\?success=false$/);
    await expect.poll(() => results.count(), POLL).toBe(3);
    await page.getByLabel('Intent', { exact: true }).fill('calendar');
    await page.getByLabel('Intent', { exact: true }).press('Enter');
    await expect.poll(() => page.url(), POLL).toContain('intent=calendar');
    await expect.poll(() => results.count(), POLL).toBe(2);
    for (const row of await results.all()) expect(await row.textContent()).toContain('timeout');

    // A shared link opens the same view, its filters filled in.
    const shared = await openPage(browser, `${server.url}/interactions?intent=calendar&success=false`);
    await expect.poll(() => shared.page.locator('tr[data-interaction]').count(), POLL).toBe(2);
    expect(await shared.page.getByLabel('Intent', { exact: true }).inputValue()).toBe('calendar');
    expect(await shared.page.getByLabel('Result', { exact: true }).inputValue()).toBe('false');
    await shared.context.close();

    // The environment filter: the seed records alternate production / staging.
    await page.goto(`${server.url}/interactions`);
    await expect.poll(() => results.count(), POLL).toBe(8);
    await page.getByLabel('Environment', { exact: true }).fill('staging');
    await page.getByLabel('Environment', { exact: true }).press('Enter');
    await expect.poll(() => page.url(), POLL).toContain('environment=staging');
    await expect.poll(() => results.count(), POLL).toBe(3);
    for (const row of await results.all()) expect(await row.textContent()).toMatch(/seed question [135]|failing question 5/);

    // Text search, then cursor pages over a larger set.
    await page.goto(`${server.url}/interactions?q=${encodeURIComponent('paris')}`);
    await expect.poll(() => results.count(), POLL).toBe(1);
    await sendSeed(server.wsUrl, Array.from({ length: 70 }, (_, i) => seedRecord(100 + i, { intent: 'bulk', session_id: 'bulk-session' })), { batch: true });
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.url(), POLL).toMatch(/\/interactions$/);
    await page.getByLabel('Intent', { exact: true }).fill('bulk');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => results.count(), POLL).toBe(50);
    await page.getByRole('button', { name: /Load 50 more/ }).click();
    await expect.poll(() => results.count(), POLL).toBe(70);
    expect(await page.getByRole('button', { name: /Load 50 more/ }).count()).toBe(0);

    // New matching interactions are announced, not pushed into the list.
    await sendSeed(server.wsUrl, [seedRecord(500, { intent: 'bulk', session_id: 'bulk-session', user_input: 'late arrival' })]);
    const fresh = page.getByRole('button', { name: /1 new/ });
    await fresh.waitFor({ timeout: 20_000 });
    await fresh.click();
    await expect.poll(() => results.first().textContent(), POLL).toContain('late arrival');
    await screenshot(page, 'explorer');
  });

  it('opens the full record with tool calls and their params, and the session timeline', async () => {
    await page.goto(`${server.url}/interactions?session=gql-session`);
    const link = page.getByRole('link', { name: 'What is the weather in Paris?' });
    await link.waitFor({ timeout: 20_000 });
    await link.click();
    await page.waitForURL(/\/interactions\/[^/?]+$/);
    const tool = page.locator('[data-tool="geo_lookup"]');
    await tool.waitFor({ timeout: 20_000 });
    const params = (await tool.locator('pre').textContent()) ?? '';
    expect(JSON.parse(params)).toEqual({ city: 'Paris', country: 'FR' });
    expect(await page.locator('main').textContent()).toContain('2.5 s');
    await screenshot(page, 'detail');

    // A deep link straight into the detail route works too (the server's SPA fallback).
    const direct = await openPage(browser, page.url());
    await direct.page.locator('[data-tool="geo_lookup"]').waitFor({ timeout: 20_000 });
    await direct.context.close();

    await page.getByRole('link', { name: 'gql-session' }).click();
    await page.waitForURL(/\/sessions\/gql-session$/);
    const rows = page.locator('tr[data-interaction]');
    await expect.poll(() => rows.count(), POLL).toBe(2);
    // Oldest first.
    expect(await rows.nth(0).textContent()).toContain('What is the weather in Paris?');
    expect(await rows.nth(1).textContent()).toContain('Book a table');
    await recordGraphql(server, { sessionId: 'gql-session', userInput: 'And tomorrow?', intent: 'weather', responseTimeMs: 700, success: true });
    await expect.poll(() => rows.count(), POLL).toBe(3);
    expect(await rows.nth(2).textContent()).toContain('And tomorrow?');
    await screenshot(page, 'session');
  });

  it('shows the alerts area: rules and alerts when the API has them, a clear error in place otherwise', async () => {
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.waitForURL(/\/alerts$/);
    const probe = await gql(server, '{ alertConfig { enabled } alertSummary { open } }', undefined, CSRF);
    if (probe.errors?.length) {
      // Not served yet: the area says so and the rest of the page still works.
      await page.getByText('Alerts are unavailable').waitFor({ timeout: 20_000 });
      await page.getByText('The alert configuration is unavailable').waitFor({ timeout: 20_000 });
      expect(await page.locator('[data-connection]').getAttribute('data-connection')).toBe('live');
      await screenshot(page, 'alerts');
      return;
    }
    const threshold = page.getByLabel(/^Error rate threshold/);
    await threshold.waitFor({ timeout: 20_000 });
    await threshold.fill('-3');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Must be more than 0.').waitFor();
    await threshold.fill('12.5');
    await page.getByLabel(/^Consecutive errors/).fill('2');
    await page.getByLabel(/^Minimum sample/).fill('1');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Saved.', { exact: true }).waitFor({ timeout: 20_000 });
    const saved = await gql<{ alertConfig: { errorRateThreshold: number; consecutiveErrorsThreshold: number } }>(
      server,
      '{ alertConfig { errorRateThreshold consecutiveErrorsThreshold } }',
      undefined,
      CSRF,
    );
    expect(saved.data?.alertConfig).toEqual({ errorRateThreshold: 12.5, consecutiveErrorsThreshold: 2 });

    // Failures in a row raise an alert, which appears live and can be acknowledged.
    await sendSeed(server.wsUrl, [0, 1, 2].map((i) => seedRecord(900 + i, { success: false, error_type: 'crash' })));
    const consecutive = page.locator('li[data-alert]', { hasText: 'Consecutive errors' }).first();
    await consecutive.waitFor({ timeout: 30_000 });
    expect(await consecutive.textContent()).toContain('firing');
    await expect.poll(async () => (await page.getByRole('link', { name: /^Alerts/ }).textContent()) ?? '', POLL).toMatch(/Alerts\s*\d/);
    await consecutive.getByRole('button', { name: /^Acknowledge/ }).click();
    await expect.poll(async () => (await consecutive.textContent()) ?? '', POLL).toContain('Acknowledged');
    await screenshot(page, 'alerts');
  });
});

describe('dashboard, usable by everyone', () => {
  it('is keyboard-navigable: the skip link moves focus to the content', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('[data-connection]').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Every form control on the explorer has an accessible name.
    await page.goto(`${server.url}/interactions`);
    await page.getByLabel('Intent', { exact: true }).waitFor();
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button')].filter((el) => {
        const e = el as HTMLInputElement;
        return !(e.labels?.length || e.getAttribute('aria-label') || e.textContent?.trim() || e.closest('label'));
      }).length,
    );
    expect(unnamed).toBe(0);
  });

  it('fits a narrow screen and follows dark mode', async () => {
    const narrow = await openPage(browser, `${server.url}/`, { viewport: { width: 390, height: 844 }, isMobile: true });
    await narrow.page.locator('[data-kpi="throughput"]').waitFor();
    await expect.poll(async () => (await narrow.page.locator('[data-kpi="throughput"]').textContent()) ?? '', POLL).toMatch(/\d+ in the last 5 min/);
    const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(narrow.page, 'overview-narrow');
    await narrow.page.goto(`${server.url}/interactions`);
    await narrow.page.locator('tr[data-interaction]').first().waitFor();
    expect(await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(1);
    await screenshot(narrow.page, 'explorer-narrow', false);
    await narrow.context.close();

    const dark = await openPage(browser, `${server.url}/`, { colorScheme: 'dark' });
    await expect.poll(async () => (await dark.page.locator('[data-kpi="throughput"]').textContent()) ?? '', POLL).toMatch(/\d+ in the last 5 min/);
    const bg = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    expect((r ?? 255) + (g ?? 255) + (b ?? 255)).toBeLessThan(150);
    await screenshot(dark.page, 'overview-dark');
    await dark.page.goto(`${server.url}/interactions?intent=weather`);
    await dark.page.locator('tr[data-interaction]').first().waitFor();
    await screenshot(dark.page, 'explorer-dark');
    await dark.context.close();
  });

  it('stays responsive at 1,000 interactions per second, with a bounded feed', async () => {
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), POLL).toBe('live');
    // Ten batches of 100 a second, for three seconds.
    const burst = (async () => {
      for (let s = 0; s < 30; s++) {
        const started = Date.now();
        await sendSeed(server.wsUrl, Array.from({ length: 100 }, (_, i) => seedRecord(10_000 + s * 100 + i, { session_id: `load-${i % 20}` })), { batch: true });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
      }
    })();
    // While it runs, the page keeps answering and its feed never grows past its cap.
    let maxRows = 0;
    while (!(await Promise.race([burst.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 250))]))) {
      const rows = await page.locator('section.feed tr[data-interaction]').count();
      maxRows = Math.max(maxRows, rows);
    }
    await burst;
    expect(maxRows).toBeLessThanOrEqual(50);
    await expect.poll(async () => Number(((await kpi('throughput').textContent()) ?? '').match(/([\d,]+) in the last/)?.[1]?.replace(/,/g, '')), POLL).toBeGreaterThanOrEqual(3000);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: /^Resume/ }).waitFor({ timeout: 5_000 });
    await page.getByRole('button', { name: /^Resume/ }).click();
    expect(await page.locator('section.feed tr[data-interaction]').count()).toBe(50);
    expect(main.errors).toEqual([]);
  }, 90_000);
});

describe('dashboard, connection loss', () => {
  it('shows reconnecting when the server is killed, then live again after a restart, and resumes', async () => {
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), POLL).toBe('live');
    const { dataDir, port } = server;
    await server.kill();
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), POLL).toBe('reconnecting');
    expect(await text('[data-connection]')).toContain('Reconnecting');

    server = await startServer({ dataDir, port });
    // Recorded right after the restart, possibly before the page is back: it must show up either way.
    await recordGraphql(server, { sessionId: 'after-restart', userInput: 'back again', intent: 'resume', responseTimeMs: 300, success: true });
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), { timeout: 30_000, interval: 200 }).toBe('live');
    const feed = page.getByRole('region', { name: 'Newest interactions' });
    await expect.poll(async () => (await feed.textContent()) ?? '', POLL).toContain('back again');
    await sendSeed(server.wsUrl, [seedRecord(7, { user_input: 'live once more', session_id: 'after-restart' })]);
    await expect.poll(async () => (await feed.textContent()) ?? '', POLL).toContain('live once more');
    expect(main.errors).toEqual([]);
  }, 90_000);
});
