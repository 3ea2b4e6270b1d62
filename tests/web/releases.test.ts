/**
 * The Releases and Improvements pages in real Chromium at 1280 px and 390 px: the overall
 * verdict card, the per-dimension tables with forest plots, the charts split by release, the
 * live update of the verdict as traffic arrives, and the improvement tracker (add, status,
 * Markdown). Screenshots go to tests/output/screenshots/releases-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { gql, startServer, type RunningServer } from '../helpers/server.js';
import { CSRF, assertDashboardBuilt, launchBrowser, openPage, screenshot } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const now = Date.now();

let server: RunningServer;
let browser: Browser;

const RECORD_MANY = `mutation ($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { acceptedCount } }`;

function traffic(version: string, n: number, failEvery: number, offsetMin: number, prefix: string): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const failed = i % failEvery === 0;
    return {
      sessionId: `${prefix}-${Math.floor(i / 3)}`,
      userInput: 'q',
      intent: ['search', 'book', 'cancel'][i % 3],
      responseTimeMs: (version === '2.0' ? 180 : 120) + (i % 80),
      success: !failed,
      errorType: failed ? (i % 2 ? 'timeout' : 'tool_error') : null,
      toolsUsed: i % 4 === 0 ? [{ tool: 'web_search', params: {}, durationMs: 40, success: true }] : [],
      assistant: 'helpdesk',
      version,
      model: i % 2 ? 'model-a' : 'model-b',
      timestamp: new Date(now - offsetMin * 60_000 + i * 1500).toISOString(),
    };
  });
}

async function record(inputs: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < inputs.length; i += 100) {
    const r = await gql(server, RECORD_MANY, { inputs: inputs.slice(i, i + 100) }, CSRF);
    expect(r.errors).toBeUndefined();
  }
}

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  // 1.0 over the last 3 hours fails 1 in 10; 2.0 over the last 2 hours fails 1 in 5.
  await record([...traffic('1.0', 700, 10, 180, 'a'), ...traffic('2.0', 600, 5, 120, 'b')]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('Releases page', () => {
  it('shows the verdict card, the forest-plot tables and the charts; the verdict follows live traffic', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/releases?assistant=helpdesk&baseline=1.0&candidate=2.0`, { viewport: WIDE });
    const card = page.getByTestId('verdict-card');
    await expect.poll(() => card.locator('[data-verdict]').first().getAttribute('data-verdict'), POLL).toBe('REGRESSED');
    await expect.poll(() => card.textContent(), POLL).toContain('2.0 against 1.0');
    await expect.poll(async () => (await card.textContent()) ?? '', POLL).toMatch(/sessions as clusters/);
    for (const region of ['Intents', 'Tools', 'Error types', 'Models']) await page.getByRole('region', { name: region }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole('region', { name: 'Intents' }).locator('svg.forest').count()).toBe(3);
    await expect.poll(() => page.locator('.charts canvas').count(), POLL).toBeGreaterThan(0);
    await screenshot(page, 'releases-wide');

    // Traffic of a third release, then compare against it: nothing recorded yet → not enough data.
    await page.goto(`${server.url}/releases?assistant=helpdesk&baseline=1.0&candidate=2.0`);
    await expect.poll(() => page.getByTestId('verdict-card').locator('[data-verdict]').first().getAttribute('data-verdict'), POLL).toBe('REGRESSED');
    await record(traffic('2.1', 40, 10, 30, 'c'));
    await page.reload();
    await page.getByTestId('candidate').selectOption('2.1');
    const verdict = page.getByTestId('verdict-card').locator('[data-verdict]').first();
    await expect.poll(() => verdict.getAttribute('data-verdict'), POLL).toBe('INSUFFICIENT_DATA');
    // The fix release's traffic keeps arriving: the card turns live, without a reload.
    await record(traffic('2.1', 600, 10, 25, 'd'));
    await expect.poll(() => verdict.getAttribute('data-verdict'), POLL).toBe('NO_CHANGE');
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('fits a phone screen: the page does not scroll sideways', async () => {
    const { page, context } = await openPage(browser, `${server.url}/releases?assistant=helpdesk&baseline=1.0&candidate=2.0`, { viewport: PHONE, isMobile: true });
    await expect.poll(() => page.getByTestId('verdict-card').locator('[data-verdict]').first().getAttribute('data-verdict'), POLL).toBe('REGRESSED');
    await page.getByRole('region', { name: 'Intents' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, 'releases-phone');
    await context.close();
  }, 60_000);
});

describe('Improvements page', () => {
  it('adds an improvement, shows its judged status, and exports Markdown', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/improvements`, { viewport: WIDE });
    const form = page.getByRole('region', { name: 'Add an improvement' });
    await form.getByLabel('Title').fill('Fewer tool errors');
    await form.getByLabel('Problem', { exact: true }).fill('tool_error');
    await form.getByLabel('Assistant').fill('helpdesk');
    await form.getByLabel('Baseline release').fill('1.0');
    await form.getByLabel('Fix release').fill('2.0');
    await form.getByRole('button', { name: 'Add' }).click();
    const row = page.getByTestId('improvement').filter({ hasText: 'Fewer tool errors' });
    // The fix has traffic, but 600 interactions are too few for the anytime-valid judgement of a 5-point change.
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), POLL).toBe('FIX_RELEASED');

    await form.getByLabel('Title').fill('Search answers');
    await form.getByLabel('Problem kind').selectOption('INTENT');
    await form.getByLabel('Problem', { exact: true }).fill('search');
    await form.getByLabel('Assistant').fill('helpdesk');
    await form.getByLabel('Baseline release').fill('1.0');
    await form.getByLabel('Fix release').fill('');
    await form.getByRole('button', { name: 'Add' }).click();
    const open = page.getByTestId('improvement').filter({ hasText: 'Search answers' });
    await expect.poll(() => open.locator('[data-status]').getAttribute('data-status'), POLL).toBe('OPEN');
    // An error names the field.
    await form.getByLabel('Title').fill('Bad alert');
    await form.getByLabel('Problem kind').selectOption('ALERT');
    await form.getByLabel('Problem', { exact: true }).fill('nope');
    await form.getByLabel('Baseline release').fill('1.0');
    await form.getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => form.getByRole('alert').textContent(), POLL).toMatch(/problem: an alert problem names an alert kind/);

    await page.getByRole('button', { name: 'Markdown table' }).click();
    await expect.poll(async () => (await page.locator('pre').textContent()) ?? '', POLL).toContain('| Fewer tool errors | error type: tool_error | helpdesk | 1.0 | 2.0 | fix released |');
    await screenshot(page, 'improvements-wide');
    expect(errors).toEqual([]);
    await context.close();

    const phone = await openPage(browser, `${server.url}/improvements`, { viewport: PHONE, isMobile: true });
    await phone.page.getByTestId('improvement').first().waitFor({ timeout: 20_000 });
    await screenshot(phone.page, 'improvements-phone');
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await phone.context.close();
  }, 90_000);
});
