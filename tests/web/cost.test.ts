/**
 * Tokens and cost on the overview, in real Chromium against the real server: token and cost
 * tiles, the cost and token charts, the breakdown by model, and the notice naming the models
 * whose interactions have no price (counted, never $0); at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { makeDataDir, startServer, type RunningServer } from '../helpers/server.js';
import { SCREENSHOTS, assertDashboardBuilt, launchBrowser, openPage, screenshot, seedRecord, sendSeed } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  assertDashboardBuilt();
  const dataDir = makeDataDir();
  writeFileSync(join(dataDir, 'model_prices.json'), JSON.stringify({ models: { 'qwen-max': { input_per_million: 1.6, output_per_million: 6.4 } } }));
  [server, browser] = await Promise.all([startServer({ dataDir }), launchBrowser()]);
  const records = [
    ...Array.from({ length: 4 }, (_, i) => seedRecord(i, { model: 'qwen-max', input_tokens: 100_000, output_tokens: 50_000 })),
    ...Array.from({ length: 3 }, (_, i) => seedRecord(10 + i, { model: 'gpt-4o-2024-08-06', input_tokens: 2000, output_tokens: 800, success: i !== 0, error_type: i === 0 ? 'timeout' : null })),
    ...Array.from({ length: 5 }, (_, i) => seedRecord(20 + i, { model: 'my-local-llama', input_tokens: 300, output_tokens: 300 })),
    seedRecord(30, { model: 'claude-3-5-sonnet-20241022', cost_usd: 0.25 }),
    seedRecord(31),
  ];
  await sendSeed(server.wsUrl, records, { batch: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('tokens and cost on the overview', () => {
  it('shows token and cost tiles, the cost chart, the model breakdown and the unpriced models', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/`);
    const section = page.getByTestId('cost-overview');
    const notice = page.getByTestId('unpriced-notice');
    await expect.poll(async () => (await notice.textContent()) ?? '', POLL).toContain('5 interactions of model my-local-llama have no price');
    expect(await notice.textContent()).toContain('model_prices.json');
    const tile = (name: string) => section.locator(`[data-kpi="${name}"]`);
    await expect.poll(async () => (await tile('input-tokens').textContent()) ?? '', POLL).toContain('407,500');
    expect(await tile('output-tokens').textContent()).toContain('203,900');
    // 4 × qwen-max (0.16 + 0.32) + 0.25 sent + 3 × gpt-4o from the package: more than $2, and 8 of 14 with a cost.
    expect(await tile('total-cost').textContent()).toMatch(/\$2\.\d\d/);
    expect(await tile('total-cost').textContent()).toContain('8 of 14 with a cost');
    expect(await section.locator('figure[data-chart] canvas').count()).toBe(2);

    const rows = section.getByTestId('model-breakdown').locator('tbody tr');
    await expect.poll(() => rows.count(), POLL).toBe(4);
    const local = rows.filter({ hasText: 'my-local-llama' });
    expect(await local.textContent()).toContain('no price');
    expect(await local.textContent()).not.toContain('$0');
    const qwen = rows.filter({ hasText: 'qwen-max' });
    expect(await qwen.textContent()).toContain('$1.92');
    expect(await qwen.textContent()).toContain('$0.48');
    expect(await rows.filter({ hasText: 'gpt-4o' }).textContent()).toContain('33.3 %');
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'cost-overview-1280');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('fits a phone: the model table scrolls inside its card, the page never sideways', async () => {
    const { page, context, errors } = await openPage(browser, `${server.url}/`, { viewport: { width: 390, height: 844 }, isMobile: true });
    const section = page.getByTestId('cost-overview');
    await expect.poll(() => section.getByTestId('model-breakdown').locator('tbody tr').count(), POLL).toBe(4);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'cost-overview-390');
    await section.screenshot({ path: join(SCREENSHOTS, 'cost-overview-390-section.png') });
    expect(errors).toEqual([]);
    await context.close();
  });
});
