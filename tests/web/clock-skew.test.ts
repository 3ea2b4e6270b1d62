/**
 * The dashboard's clock-skew notice in real Chromium: a server in UTC without
 * AI_MONITOR_NAIVE_TIMEZONE receives the seed's naive local timestamps from a UTC+8 sender;
 * the overview counts them now and a notice names the offset and the setting. Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.js';
import { assertDashboardBuilt, launchBrowser, openPage, screenshot, seedRecord, sendSeed } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer({ env: { TZ: 'UTC', AI_MONITOR_NAIVE_TIMEZONE: undefined } }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** What Python's `datetime.now().isoformat()` prints on a machine in Asia/Shanghai (UTC+8, no DST). */
function shanghaiNaiveNow(): string {
  return new Date(Date.now() + 8 * 3_600_000).toISOString().replace('Z', '');
}

describe('clock-skew notice', () => {
  it('tells which sender is about 8 h ahead and the setting to fix it, while the overview counts its records', async () => {
    const records = [0, 1, 2, 3, 4].map((i) => seedRecord(i, { timestamp: shanghaiNaiveNow() }));
    await sendSeed(server.wsUrl, records);
    const { page, context, errors } = await openPage(browser, `${server.url}/`);

    const notice = page.getByRole('status', { name: 'Clock skew' });
    await notice.waitFor({ timeout: 20_000 });
    const text = (await notice.textContent())?.replace(/\s+/g, ' ') ?? '';
    expect(text).toContain('5 records from address 127.0.0.1');
    expect(text).toContain('about 8 h ahead of the server clock');
    expect(text).toContain('counted at their receive time');
    expect(text).toContain('AI_MONITOR_NAIVE_TIMEZONE=Asia/Shanghai');

    // Counted in "now": the overview's 5-minute tile has all five.
    await expect.poll(async () => (await page.locator('[data-kpi="throughput"]').textContent()) ?? '', POLL).toContain('5 in the last 5 min');
    await screenshot(page, 'clock-skew-notice', false);

    // Dismissed, it stays away until more skewed records arrive.
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => notice.count(), POLL).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('fits a narrow screen in dark mode', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/`, { viewport: { width: 390, height: 800 }, colorScheme: 'dark' });
    const notice = page.getByRole('status', { name: 'Clock skew' });
    await notice.waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await screenshot(page, 'clock-skew-notice-narrow-dark', false);
    expect(errors).toEqual([]);
    await context.close();
  });
});
