/**
 * The alert rules pages in real Chromium against the real server: a rule made in the editor
 * fires on real ingest, its alert card shows current and peak value, duration, a sparkline and
 * a link to the explorer filtered to its scope; the nav badge counts firing alerts; a silence
 * is set and ended; the rule is edited and deleted. Screenshots at 1280 and 390 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { makeDataDir, startServer, type RunningServer } from '../helpers/app.js';
import { QUIET, postInteractions, records, writeAlertConfig } from '../alerts/support.js';
import { assertDashboardBuilt, launchBrowser, openPage, screenshot } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  assertDashboardBuilt();
  // Only the rule made in the editor fires (alert_config.json's rules stay quiet).
  const dataDir = makeDataDir();
  writeAlertConfig(dataDir, QUIET);
  [server, browser] = await Promise.all([startServer({ dataDir }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(server.dataDir, { recursive: true, force: true });
});

const noSideScroll = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth + 1);

describe('alert rules in the dashboard', () => {
  it('creates a rule in the editor, shows its firing alert as a card, mutes it with a silence, edits and deletes it', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/alerts/rules`, { viewport: WIDE });
    // alert_config.json's three rules are listed, read-only.
    await expect.poll(() => page.locator('li[data-rule]').count(), POLL).toBe(3);
    await page.getByLabel('Name').fill('Checkout failures');
    await page.getByLabel('Metric').selectOption('consecutive_errors');
    await page.getByLabel(/Critical threshold/).fill('2');
    await page.getByLabel('Intent').fill('checkout');
    await page.getByRole('button', { name: 'Add a channel' }).click();
    await page.getByLabel('Channel 1 URL').fill('https://hooks.example.com/ai-monitor');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.locator('li[data-rule]').count(), POLL).toBe(4);
    const row = page.locator('li[data-rule]').last();
    expect(await row.textContent()).toContain('Consecutive errors');
    expect(await row.textContent()).toContain('Intent = checkout');
    await screenshot(page, 'alert-rules-wide');

    await postInteractions(server, records(3, false, { intent: 'checkout' }));
    await page.goto(`${server.url}/alerts`);
    const card = page.locator('li[data-alert]').first();
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toContain('Checkout failures');
    expect(await card.locator('[data-current]').textContent()).toBe('3');
    expect(await card.locator('[data-peak]').textContent()).toBe('3');
    expect(await card.locator('svg[data-sparkline]').count()).toBe(1);
    const href = await card.locator('a[data-explorer-link]').getAttribute('href');
    expect(href).toMatch(/^\/interactions\?from=.+&to=.+&intent=checkout&success=false$/);
    const badge = page.locator('nav[aria-label="Main"] .count');
    await expect.poll(() => badge.getAttribute('aria-label'), POLL).toBe('1 firing');
    await screenshot(page, 'alert-card-wide');

    // The overview's charts draw alert_config.json's thresholds and the alert's firing period.
    await page.goto(`${server.url}/`);
    const errorChart = page.locator('figure[data-chart="Error rate"]');
    await expect.poll(() => errorChart.getAttribute('data-firing-periods'), POLL).toBe('1');
    expect(await errorChart.getAttribute('data-thresholds')).toBe(String(QUIET.error_rate_threshold));
    expect(await page.locator('figure[data-chart="Response time"]').getAttribute('data-thresholds')).toBe(String(QUIET.response_time_threshold));
    await screenshot(page, 'overview-firing-period-wide', false);
    await page.goto(`${server.url}/alerts`);
    await card.waitFor({ timeout: 20_000 });

    // The explorer link shows the failing checkout interactions.
    await card.locator('a[data-explorer-link]').click();
    await expect.poll(() => page.locator('tr[data-interaction]').count(), POLL).toBe(3);

    await page.goto(`${server.url}/alerts/silences`);
    await page.getByLabel('Scope value').fill('checkout');
    await page.getByLabel('Reason').fill('Payment provider maintenance');
    await page.getByRole('button', { name: 'Set silence' }).click();
    const silence = page.locator('li[data-silence]').first();
    await silence.waitFor({ timeout: 20_000 });
    expect(await silence.textContent()).toContain('Payment provider maintenance');
    expect(await silence.textContent()).toContain('scope intent = checkout');
    expect(await silence.textContent()).toContain('active');
    await screenshot(page, 'silences-wide');
    await silence.getByRole('button', { name: /End now/ }).click();
    await expect.poll(async () => (await page.locator('li[data-silence]').first().textContent()) ?? '', POLL).toContain('ended');

    // Edit: a new threshold; delete: the rule goes and its alert resolves, so the badge clears.
    await page.goto(`${server.url}/alerts/rules`);
    await page.getByRole('button', { name: 'Edit Checkout failures' }).click();
    await page.getByLabel(/Critical threshold/).fill('5');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await expect.poll(async () => (await page.locator('li[data-rule]').last().textContent()) ?? '', POLL).toContain('critical > 5');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete Checkout failures' }).click();
    await expect.poll(() => page.locator('li[data-rule]').count(), POLL).toBe(3);
    await expect.poll(() => badge.count(), POLL).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('at 390 px the alert, rules and silences pages fit without sideways scrolling', async () => {
    await postInteractions(server, records(1, true));
    const { page, context, errors } = await openPage(browser, `${server.url}/alerts`, { viewport: PHONE, isMobile: true });
    await page.locator('li[data-alert]').first().waitFor({ timeout: 20_000 });
    expect(await noSideScroll(page)).toBe(true);
    await screenshot(page, 'alert-card-phone');
    for (const [path, name] of [['/alerts/rules', 'alert-rules-phone'], ['/alerts/silences', 'silences-phone']] as const) {
      await page.goto(`${server.url}${path}`);
      await page.locator('form').first().waitFor();
      await expect.poll(() => page.locator('li[data-rule], li[data-silence]').count(), POLL).toBeGreaterThan(0);
      expect(await noSideScroll(page), path).toBe(true);
      await screenshot(page, name);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
