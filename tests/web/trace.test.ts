/**
 * The trace waterfall in real Chromium: a GenAI agent trace sent with the OpenTelemetry SDK,
 * found in the explorer through its trace link, shown as nested bars with durations, status,
 * model and tokens per LLM span, tool arguments and attributes on opening a row; at desktop and
 * phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.js';
import { assertDashboardBuilt, launchBrowser, openPage, screenshot } from './support.js';
import { exporter, genAiTrace, recorder, send } from '../otlp/support.js';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('trace waterfall', () => {
  it('links the explorer to the trace and shows it as a waterfall at 1280 and 390 pixels', async () => {
    const { tracer, ended } = recorder();
    const t = genAiTrace(tracer, 'web-conv');
    await send(exporter(server.url, 'protobuf'), [...ended]);

    const { page, errors, context } = await openPage(browser, `${server.url}/interactions`);
    const traceLink = page.locator(`a.trace-link[href$="otel-${t.traceId}#trace"]`);
    await traceLink.waitFor({ timeout: 20_000 });
    await screenshot(page, 'explorer-trace-link', false);
    await traceLink.click();
    const rows = page.locator(`[data-trace="${t.traceId}"] li[data-span]`);
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(5);
    // The root first, its children nested under it.
    expect(await rows.nth(0).getAttribute('data-span')).toBe(t.root.spanContext().spanId);
    const failed = page.locator(`li[data-span="${t.tool2.spanContext().spanId}"]`);
    expect(await failed.getAttribute('data-status')).toBe('ERROR');
    const llm = page.locator(`li[data-span="${t.chat1.spanContext().spanId}"]`);
    expect(await llm.locator('summary').textContent()).toContain('gpt-4o-2024-08-06');
    expect(await llm.locator('summary').textContent()).toContain('100 / 20 tok');
    const tool = page.locator(`li[data-span="${t.tool1.spanContext().spanId}"]`);
    await tool.locator('summary').click();
    const args = (await tool.locator('pre').first().textContent()) ?? '';
    expect(JSON.parse(args)).toEqual({ to: 'Paris' });
    await rows.nth(0).locator('summary').click();
    expect(await rows.nth(0).textContent()).toContain('Find me a flight to Paris');
    await screenshot(page, 'trace-waterfall');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#trace').scrollIntoViewIfNeeded();
    await screenshot(page, 'trace-waterfall-narrow');
    // Nothing wider than the phone's screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
