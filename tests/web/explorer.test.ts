/**
 * The interactions explorer in real Chromium against the real server: total count, the match
 * histogram, facet counts that click to filter, the sort selector, the column chooser (kept
 * across reloads) and export of the current filter; screenshots at 1280 and 390 pixels wide.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.js';
import { assertDashboardBuilt, launchBrowser, openPage, screenshot, seedRecord, sendSeed, type OpenedPage } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };

let server: RunningServer;
let browser: Browser;
let opened: OpenedPage;

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const records = Array.from({ length: 30 }, (_, i) =>
    seedRecord(i, {
      intent: i % 3 ? 'travel' : 'chat',
      user_input: i % 2 ? `帮我查一下去上海的航班 ${i}` : `find a hotel in paris ${i}`,
      assistant: i % 2 ? 'bot-zh' : 'bot-en',
      model: i % 5 ? 'm-large' : 'm-small',
      cost_usd: (i % 7) / 100,
      input_tokens: 100 + i,
      output_tokens: 10,
      success: i % 4 !== 0,
      error_type: i % 4 === 0 ? 'timeout' : null,
    }),
  );
  await sendSeed(server.wsUrl, records, { batch: true });
  opened = await openPage(browser, `${server.url}/interactions`, { viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('interactions explorer', () => {
  it('shows the total, a histogram and facets; a facet value filters, a sort orders, columns persist, export follows the filter', async () => {
    const page = opened.page;
    const rows = page.locator('tr[data-interaction]');
    const title = page.locator('#results-title');
    await expect.poll(() => title.getAttribute('data-total'), POLL).toBe('30');
    expect(await title.textContent()).toContain('30 interactions');
    await page.locator('figure.histogram svg rect').first().waitFor();

    // Facets: intent counts sum to the total; clicking one filters by it.
    const travel = page.getByRole('button', { name: /^travel\s*20$/ });
    await travel.waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: /^chat\s*10$/ }).count()).toBe(1);
    await travel.click();
    await expect.poll(() => page.url(), POLL).toContain('intent=travel');
    await expect.poll(() => title.getAttribute('data-total'), POLL).toBe('20');
    expect(await page.getByLabel('Intent', { exact: true }).inputValue()).toBe('travel');

    // Search in Chinese narrows further (facets follow).
    await page.getByLabel('Text in user input').fill('上海的航班');
    await page.getByLabel('Text in user input').press('Enter');
    await expect.poll(() => title.getAttribute('data-total'), POLL).toBe('10');
    await expect.poll(() => rows.count(), POLL).toBe(10);

    // Sort by cost, descending: the first row is the most expensive.
    await page.getByLabel('Sort by').selectOption('cost');
    await expect.poll(() => page.url(), POLL).toContain('sort=cost');
    // The Cost column, chosen once, is kept after a reload.
    await page.locator('details.columns summary').click();
    await page.getByLabel('Cost column').check();
    await expect.poll(() => page.locator('th', { hasText: 'Cost' }).count(), POLL).toBe(1);
    const costs = async (): Promise<number[]> =>
      (await page.locator('tr[data-interaction] td.num').allTextContents()).filter((t) => t.startsWith('$')).map((t) => Number(t.slice(1)));
    await expect.poll(async () => (await costs()).length, POLL).toBe(10);
    const desc = await costs();
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await page.getByRole('button', { name: /Descending/ }).click();
    await expect.poll(() => page.url(), POLL).toContain('dir=asc');
    await expect.poll(async () => (await costs())[0], POLL).toBe(Math.min(...desc));
    await screenshot(page, 'explorer-facets-1280', false);

    await page.reload();
    await expect.poll(() => page.locator('th', { hasText: 'Cost' }).count(), POLL).toBe(1);

    // Export: the link carries the filter and the order; its file holds exactly the matching rows.
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(href).toMatch(/^\/api\/export\?format=csv&/);
    expect(href).toContain('intent=travel');
    expect(href).toContain('sort=cost');
    const csv = await (await fetch(`${server.url}${href}`)).text();
    expect(csv.trim().split('\r\n')).toHaveLength(11);
    const jsonl = await page.getByRole('link', { name: 'Export JSONL' }).getAttribute('href');
    const lines = (await (await fetch(`${server.url}${jsonl}`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { cost_usd: number });
    expect(lines.map((l) => l.cost_usd)).toEqual([...lines.map((l) => l.cost_usd)].sort((a, b) => a - b));
  });

  it('fits a phone screen (390 px)', async () => {
    const narrow = await openPage(browser, `${server.url}/interactions?intent=travel`, { viewport: { width: 390, height: 844 }, isMobile: true });
    await narrow.page.locator('tr[data-interaction]').first().waitFor({ timeout: 20_000 });
    await narrow.page.getByRole('button', { name: /^travel\s*20$/ }).waitFor({ timeout: 20_000 });
    expect(await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(1);
    await screenshot(narrow.page, 'explorer-facets-390', true);
    await narrow.context.close();
  });
});
