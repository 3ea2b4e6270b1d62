/**
 * Shared pieces of the dashboard tests: the system Chromium (never downloaded), traffic
 * through the seed WebSocket and GraphQL, and screenshots under tests/output/screenshots.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { REPO_ROOT, gql } from '../helpers/server.js';

export const SCREENSHOTS = join(REPO_ROOT, 'tests/output/screenshots');
export const WEB_BUILD = join(REPO_ROOT, 'apps/web/build/index.html');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function assertDashboardBuilt(): void {
  if (!existsSync(WEB_BUILD)) throw new Error(`the dashboard is not built (${WEB_BUILD} is missing): run "npm run build -w apps/web"`);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors, to assert none happened. */
  errors: string[];
}

export async function openPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC', ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** A seed-protocol record (snake_case), as the seed's Python client sends it. */
export interface SeedRecord {
  id?: string;
  session_id: string;
  timestamp?: string;
  user_input: string;
  intent: string;
  tools_used: { tool: string; params: Record<string, unknown>; duration_ms?: number; success?: boolean; error?: string }[];
  response_time_ms: number;
  success: boolean;
  error_type: string | null;
  environment?: string | null;
  model?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  cost_usd?: number | null;
}

/** Sends records on the seed socket (`{"type":"metrics",...}` each, or batches) and waits until all are acknowledged. */
export async function sendSeed(wsUrl: string, records: SeedRecord[], opts: { batch?: boolean; token?: string } = {}): Promise<void> {
  const ws = new WebSocket(`${wsUrl}/`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let acked = 0;
  const expected = opts.batch ? 1 : records.length;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${acked} of ${expected} acknowledgements`)), 20_000);
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; error?: string };
      if (msg.type === 'error') {
        clearTimeout(timer);
        reject(new Error(msg.error));
      }
      if (msg.type === 'ack' && ++acked === expected) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  if (opts.token) ws.send(JSON.stringify({ type: 'auth', token: opts.token }));
  if (opts.batch) ws.send(JSON.stringify({ type: 'metrics_batch', data: records }));
  else for (const data of records) ws.send(JSON.stringify({ type: 'metrics', data }));
  await done;
  ws.close();
}

export const CSRF = { 'x-graphql-yoga-csrf': '1' };

/** Records one interaction through the GraphQL mutation (camelCase input); returns its id. */
export async function recordGraphql(server: { url: string }, input: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await gql<{ recordInteraction: { id: string } }>(
    server,
    'mutation ($input: InteractionInput!) { recordInteraction(input: $input) { id } }',
    { input },
    { ...CSRF, ...headers },
  );
  if (res.errors?.length || !res.data) throw new Error(`recordInteraction failed: ${JSON.stringify(res.errors)}`);
  return res.data.recordInteraction.id;
}

export function seedRecord(i: number, over: Partial<SeedRecord> = {}): SeedRecord {
  const intents = ['weather', 'search', 'calendar'];
  const tools = ['read', 'search', 'write'];
  return {
    session_id: `session-${i % 3}`,
    timestamp: new Date().toISOString().replace('Z', ''),
    user_input: `question ${i}`,
    intent: intents[i % intents.length]!,
    tools_used: [{ tool: tools[i % tools.length]!, params: { n: i } }],
    response_time_ms: 100 + i * 10,
    success: true,
    error_type: null,
    ...over,
  };
}
