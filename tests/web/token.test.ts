/**
 * A server that requires tokens: the dashboard asks for one, keeps it in localStorage, sends
 * it on HTTP and in the socket's connectionParams, and goes live once it is given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { gql, startServer, type RunningServer } from '../helpers/server.js';
import { CSRF, assertDashboardBuilt, launchBrowser, openPage, recordGraphql, screenshot } from './support.js';

const POLL = { timeout: 20_000, interval: 200 };
const TOKENS = { AI_MONITOR_READ_TOKENS: 'reader-secret', AI_MONITOR_ADMIN_TOKENS: 'admin-secret', AI_MONITOR_INGEST_TOKENS: 'ingest-secret' };

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  assertDashboardBuilt();
  [server, browser] = await Promise.all([startServer({ env: TOKENS }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe('dashboard with tokens', () => {
  it('asks for a token, remembers it and goes live with it', async (ctx) => {
    const probe = await gql(server, '{ metrics { count } }', undefined, CSRF);
    // Only meaningful once the server enforces tokens.
    if (!probe.errors?.length && probe.status === 200) ctx.skip();

    const { page, context, errors } = await openPage(browser, `${server.url}/`);
    const dialog = page.getByRole('dialog', { name: 'Access token' });
    await dialog.waitFor({ timeout: 20_000 });
    expect(await dialog.textContent()).toMatch(/asks for an access token/);
    await screenshot(page, 'token-prompt', false);

    await dialog.getByLabel('Token').fill('reader-secret');
    await dialog.getByRole('button', { name: 'Save and reconnect' }).click();
    await expect.poll(() => page.locator('[data-connection]').getAttribute('data-connection'), POLL).toBe('live');
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.evaluate(() => localStorage.getItem('ai-monitor.token'))).toBe('reader-secret');

    await recordGraphql(server, { sessionId: 't1', userInput: 'behind a token', intent: 'secure', responseTimeMs: 120, success: true }, { authorization: 'Bearer ingest-secret' });
    const feed = page.getByRole('region', { name: 'Newest interactions' });
    await expect.poll(async () => (await feed.textContent()) ?? '', POLL).toContain('behind a token');
    await expect.poll(async () => (await page.locator('[data-kpi="throughput"]').textContent()) ?? '', POLL).toContain('1 in the last 5 min');

    // A reload keeps the token: no prompt, data at once.
    await page.reload();
    await expect.poll(async () => (await feed.textContent()) ?? '', POLL).toContain('behind a token');
    expect(await dialog.isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  });
});
