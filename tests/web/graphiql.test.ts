/**
 * GraphiQL at /graphql works without internet access: every request leaving loopback is
 * blocked and recorded, and the page must load, run a query typed into its editor, and run a
 * subscription over graphql-ws, asking for nothing outside. With tokens configured, the token
 * typed into the headers editor authorises queries and (as connectionParams) subscriptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.js';
import { launchBrowser, recordGraphql, screenshot, sendSeed, seedRecord } from './support.js';

const POLL = { timeout: 30_000, interval: 250 };
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const TOKENS = { AI_MONITOR_READ_TOKENS: 'reader-secret', AI_MONITOR_ADMIN_TOKENS: 'admin-secret', AI_MONITOR_INGEST_TOKENS: 'ingest-secret' };

interface OfflinePage {
  context: BrowserContext;
  page: Page;
  /** Requests aborted because they left loopback. */
  blocked: string[];
  /** Statuses of the page's GraphQL requests over HTTP. */
  graphqlStatuses: number[];
  /** Payloads of the graphql-ws connection_init messages the page sent. */
  connectionInits: unknown[];
  errors: string[];
}

/** Opens GraphiQL at 1440 px with every request outside loopback aborted and recorded. */
async function openGraphiql(browser: Browser, server: RunningServer): Promise<OfflinePage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  const opened: OfflinePage = { context, page: await context.newPage(), blocked: [], graphqlStatuses: [], connectionInits: [], errors: [] };
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname)) return route.continue();
    opened.blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  // WebSockets are not routed: record any opened outside loopback as blocked too.
  const { page } = opened;
  page.on('websocket', (ws) => {
    if (!LOOPBACK.has(new URL(ws.url()).hostname)) opened.blocked.push(ws.url());
    ws.on('framesent', (frame) => {
      const msg = JSON.parse(String(frame.payload)) as { type: string; payload?: unknown };
      if (msg.type === 'connection_init') opened.connectionInits.push(msg.payload ?? null);
    });
  });
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/graphql' && res.request().method() === 'POST') opened.graphqlStatuses.push(res.status());
  });
  page.on('pageerror', (e) => opened.errors.push(e.message));
  await page.goto(`${server.url}/graphql`, { timeout: 60_000 });
  await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 60_000 });
  return opened;
}

/** Replaces the text of a Monaco editor as typed input (Ctrl+A, then the text). */
async function typeInto(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(`${editor} .monaco-editor`).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await expect.poll(() => editorText(page, editor), POLL).toBe(text.replace(/\s+/g, ' '));
}

/** The visible text of a Monaco editor, whitespace collapsed (Monaco renders non-breaking spaces). */
async function editorText(page: Page, editor: string): Promise<string> {
  const text = await page.locator(`${editor} .view-lines`).first().innerText();
  return text.replace(/[\s\u00a0]+/g, ' ').trim();
}

const RESPONSE = '.graphiql-response';

async function run(page: Page, query: string): Promise<void> {
  await typeInto(page, '.graphiql-query-editor', query);
  await page.getByRole('button', { name: /^Execute query/ }).click();
}

async function setHeaders(page: Page, headers: Record<string, string>): Promise<void> {
  await page.getByRole('button', { name: 'Headers', exact: true }).click();
  await typeInto(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify(headers));
}

/** Records interactions (bounded) until the subscription's pane shows one: the subscription starts asynchronously. */
async function recordUntilShown(page: Page, record: () => Promise<unknown>, expected: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    await record();
    try {
      await expect.poll(() => editorText(page, RESPONSE), { timeout: 2_000, interval: 200 }).toContain(expected);
      return;
    } catch {
      // not subscribed yet: record another
    }
  }
  throw new Error(`the subscription never showed ${expected}; response pane: ${await editorText(page, RESPONSE)}`);
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('GraphiQL without internet access', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('serves the page with every asset inline', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<title>ai-monitor GraphiQL</title>');
    // No script, stylesheet or worker from elsewhere: nothing is loaded by URL at all.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+rel="stylesheet"|unpkg\.com|cdn\.jsdelivr/i);
  });

  it('runs a typed query and shows the result, asking for nothing outside loopback', async () => {
    await sendSeed(server.wsUrl, [0, 1, 2].map((i) => seedRecord(i)));
    const gq = await openGraphiql(browser, server);
    const { page } = gq;

    await run(page, '{ metrics(window: "5m") { count } }');
    await expect.poll(() => editorText(page, RESPONSE), POLL).toContain('"count": 3');
    await screenshot(page, 'graphiql-result-1440', false);

    expect(gq.blocked).toEqual([]);
    expect(gq.graphqlStatuses.length).toBeGreaterThan(0);
    // JSON POSTs pass the CSRF check: none was refused.
    expect(gq.graphqlStatuses.every((s) => s === 200)).toBe(true);
    expect(gq.errors).toEqual([]);
    await gq.context.close();
  });

  it('runs a subscription over graphql-ws', async () => {
    const gq = await openGraphiql(browser, server);
    const { page } = gq;
    await run(page, 'subscription { interactionRecorded { intent userInput } }');
    let n = 0;
    await recordUntilShown(
      page,
      () => recordGraphql(server, { sessionId: 'gq', userInput: `live ${n++}`, intent: 'graphiql-live', responseTimeMs: 5, success: true }),
      'graphiql-live',
    );
    expect(gq.connectionInits.length).toBeGreaterThan(0);
    expect(gq.blocked).toEqual([]);
    expect(gq.errors).toEqual([]);
    await gq.context.close();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('GraphiQL with tokens', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ env: TOKENS });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('sends the token of the headers editor with queries and subscriptions', async () => {
    const gq = await openGraphiql(browser, server);
    const { page } = gq;

    // Without a token the server refuses the query.
    await run(page, '{ metrics(window: "5m") { count } }');
    await expect.poll(() => editorText(page, RESPONSE), POLL).toContain('UNAUTHENTICATED');
    // Nor does it open a subscription's WebSocket without one.
    await run(page, 'subscription { interactionRecorded { intent } }');
    await expect.poll(() => gq.connectionInits.length, POLL).toBeGreaterThan(0);
    expect(gq.connectionInits.every((p) => JSON.stringify(p) === '{}')).toBe(true);
    // GraphiQL keeps retrying the refused connection: stop it.
    const execute = page.locator('.graphiql-execute-button');
    expect(await execute.getAttribute('aria-label')).toMatch(/^Stop/);
    await execute.click();
    await expect.poll(() => execute.getAttribute('aria-label'), POLL).toMatch(/^Execute/);

    await setHeaders(page, { Authorization: 'Bearer reader-secret' });
    await run(page, '{ metrics(window: "5m") { count } }');
    await expect.poll(() => editorText(page, RESPONSE), POLL).toContain('"count": 0');

    await run(page, 'subscription { interactionRecorded { intent } }');
    let n = 0;
    await recordUntilShown(
      page,
      () => recordGraphql(server, { sessionId: 'gq', userInput: `secure ${n++}`, intent: 'graphiql-secure', responseTimeMs: 5, success: true }, { authorization: 'Bearer ingest-secret' }),
      'graphiql-secure',
    );
    // The token went to graphql-ws at connection_init, where the server checks it.
    expect(gq.connectionInits).toContainEqual({ authorization: 'Bearer reader-secret' });

    // After a reload the persisted headers still authorise a subscription (nothing edited).
    await expect.poll(() => page.evaluate(() => localStorage.getItem('graphiql:headers')), POLL).toContain('reader-secret');
    await page.reload();
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 60_000 });
    const before = gq.connectionInits.length;
    await run(page, 'subscription { interactionRecorded { userInput } }');
    await recordUntilShown(
      page,
      () => recordGraphql(server, { sessionId: 'gq', userInput: `after reload ${n++}`, intent: 'graphiql-secure', responseTimeMs: 5, success: true }, { authorization: 'Bearer ingest-secret' }),
      'after reload',
    );
    expect(gq.connectionInits.slice(before)).toContainEqual({ authorization: 'Bearer reader-secret' });
    expect(gq.blocked).toEqual([]);
    expect(gq.errors).toEqual([]);
    await gq.context.close();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
