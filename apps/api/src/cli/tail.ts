/**
 * `ai-monitor tail`: a live text view. Subscribes over graphql-ws to `interactionRecorded`
 * (one line per interaction) and `metricsUpdated` (a status line every few seconds), and
 * reconnects with back-off when the server goes away.
 */
import type { Command } from 'commander';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { action, durationArg, EXIT, intArg, tokenOf, windowArg } from './common.js';
import { graphqlRequest, parseServerUrl, URL_HELP, type ServerAddress } from './remote.js';
import { colourEnabled, painter, type Paint } from './output.js';
import { INTERACTION_FIELDS, interactionLine, METRICS_FIELDS, statusLine, type TailInteraction, type TailMetrics } from './tail-format.js';

interface TailFlags {
  url?: string;
  filterIntent?: string;
  assistant?: string;
  errorsOnly?: boolean;
  json?: boolean;
  window: string;
  statusEvery: number;
  count?: number;
  token?: string;
}

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('live text view of interactions and metrics from a running server')
    .option('-u, --url <url>', URL_HELP)
    .option('-i, --filter-intent <intent>', 'only interactions with this intent')
    .option('--assistant <name>', 'only interactions of this assistant')
    .option('-e, --errors-only', 'only failed interactions')
    .option('--json', 'one JSON object per line ({"type":"interaction",...} / {"type":"metrics",...}) instead of text')
    .option('-w, --window <window>', 'window of the status line: 1m, 5m, 1h', windowArg, '5m')
    .option('--status-every <time>', 'least time between status lines; 0s turns them off', statusEveryArg, 10_000)
    .option('-n, --count <n>', 'exit after this many interactions', intArg(1, 1_000_000_000))
    .option('--token <token>', 'token with read access (env AI_MONITOR_TOKEN)')
    .addHelpText(
      'after',
      `
Each line: time, ✓ or ✗ with the error type, response time, intent, assistant, tools (a
failed tool call ends in "!"), the whole session id and the user's input (cut to fit the terminal's width). Colours
only on a terminal (NO_COLOR turns them off). Stop with Ctrl-C.

Examples:
  ai-monitor tail
  ai-monitor tail --errors-only --filter-intent search
  ai-monitor tail --json | jq 'select(.type == "interaction") | .responseTimeMs'`,
    )
    .action(action('tail', (flags: TailFlags) => runTail(flags)));
}

function statusEveryArg(value: string): number {
  return /^\s*0+\s*[smhdw]?\s*$/i.test(value) ? 0 : durationArg(value);
}

function runTail(flags: TailFlags): Promise<number> {
  const server = parseServerUrl(flags.url);
  const token = tokenOf(flags.token);
  return new TailView(server, token, flags).run();
}

const MAX_BACKOFF_MS = 30_000;

class TailView {
  private readonly paint: Paint;
  private readonly out = process.stdout;
  private client: Client | null = null;
  private printed = 0;
  private lastStatus = 0;
  private connectedOnce = false;
  /** True between `connected` and the next `closed`. */
  private live = false;
  private finish: ((code: number) => void) | null = null;

  constructor(
    private readonly server: ServerAddress,
    private readonly token: string | undefined,
    private readonly flags: TailFlags,
  ) {
    this.paint = painter(!flags.json && colourEnabled(process.stdout));
  }

  async run(): Promise<number> {
    // A plain query first: an unreachable server or a refused token fails here, clearly.
    const { metrics } = await graphqlRequest<{ metrics: TailMetrics }>(
      this.server,
      `query TailStart($window: String) { metrics(window: $window) { ${METRICS_FIELDS} } }`,
      { window: this.flags.window },
      { token: this.token },
    );
    if (this.flags.statusEvery > 0) this.printStatus(metrics, true);

    const done = new Promise<number>((resolve) => (this.finish = resolve));
    const stop = (): void => this.end(EXIT.OK);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    this.client = this.connect();
    this.subscribe();
    const code = await done;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await this.client.dispose();
    return code;
  }

  private connect(): Client {
    return createClient({
      url: this.server.graphqlWs,
      webSocketImpl: WebSocket,
      connectionParams: this.token ? { token: this.token } : {},
      lazy: true,
      keepAlive: 10_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      // Retry every connection problem, not only close events: the server may be restarting.
      shouldRetry: () => true,
      retryWait: async (retries) => {
        const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries) * (0.8 + Math.random() * 0.4);
        this.note(`reconnecting in ${(wait / 1000).toFixed(1)} s (attempt ${retries + 1})`);
        await new Promise((r) => setTimeout(r, wait));
      },
      on: {
        connected: (_socket, _payload, wasRetry) => {
          if (wasRetry || this.connectedOnce) this.note(`reconnected to ${this.server.graphqlWs}`);
          else this.note(`tailing ${this.server.http}${this.describeFilter()} — Ctrl-C to stop`);
          this.connectedOnce = true;
          this.live = true;
        },
        closed: (event) => {
          const code = (event as { code?: number } | null)?.code;
          // A refused token does not get better by retrying.
          if (code === 4401 || code === 4403) return this.fatal(describeClose(event));
          if (this.live && this.finish) this.note(`connection lost (${describeClose(event)})`);
          this.live = false;
        },
      },
    });
  }

  private subscribe(): void {
    const client = this.client!;
    const filter: Record<string, unknown> = {};
    if (this.flags.filterIntent) filter.intent = this.flags.filterIntent;
    if (this.flags.assistant) filter.assistant = this.flags.assistant;
    if (this.flags.errorsOnly) filter.success = false;
    client.subscribe<{ interactionRecorded: TailInteraction }>(
      {
        query: `subscription Tail($filter: InteractionFilter) { interactionRecorded(filter: $filter) { ${INTERACTION_FIELDS} } }`,
        variables: { filter },
      },
      {
        next: (result) => {
          if (result.errors?.length) return this.fatal(`the server answered: ${result.errors.map((e) => e.message).join('; ')}`);
          if (result.data?.interactionRecorded) this.printInteraction(result.data.interactionRecorded);
        },
        error: (err) => this.fatal(`subscription failed: ${describeClose(err)}`),
        complete: () => this.fatal('the server ended the subscription'),
      },
    );
    if (this.flags.statusEvery === 0 && !this.flags.json) return;
    client.subscribe<{ metricsUpdated: TailMetrics }>(
      { query: `subscription TailStatus($window: String) { metricsUpdated(window: $window) { ${METRICS_FIELDS} } }`, variables: { window: this.flags.window } },
      {
        next: (result) => {
          if (result.data?.metricsUpdated) this.printStatus(result.data.metricsUpdated, false);
        },
        error: (err) => this.fatal(`metrics subscription failed: ${describeClose(err)}`),
        complete: () => undefined,
      },
    );
  }

  private printInteraction(r: TailInteraction): void {
    if (!this.finish) return;
    if (this.flags.json) this.out.write(`${JSON.stringify({ type: 'interaction', ...r })}\n`);
    else this.out.write(`${interactionLine(r, this.paint, this.lineWidth())}\n`);
    this.printed += 1;
    if (this.flags.count !== undefined && this.printed >= this.flags.count) this.end(EXIT.OK);
  }

  private printStatus(m: TailMetrics, force: boolean): void {
    if (!this.finish && !force) return;
    const now = Date.now();
    if (!force && (this.flags.statusEvery === 0 || now - this.lastStatus < this.flags.statusEvery)) return;
    this.lastStatus = now;
    if (this.flags.json) this.out.write(`${JSON.stringify({ type: 'metrics', window: this.flags.window, ...m })}\n`);
    else this.out.write(`${statusLine(m, this.flags.window, this.paint, this.lineWidth())}\n`);
  }

  /** The terminal's width, read per line (it follows resizes); 160 when piped. */
  private lineWidth(): number {
    return this.out.isTTY ? this.out.columns || 80 : 160;
  }

  private describeFilter(): string {
    const parts = [
      this.flags.filterIntent ? `intent ${this.flags.filterIntent}` : '',
      this.flags.assistant ? `assistant ${this.flags.assistant}` : '',
      this.flags.errorsOnly ? 'errors only' : '',
    ].filter(Boolean);
    return parts.length ? ` (${parts.join(', ')})` : '';
  }

  /** Connection news goes to stderr so `--json` output stays machine-readable. */
  private note(text: string): void {
    process.stderr.write(`ai-monitor tail: ${text}\n`);
  }

  private fatal(message: string): void {
    if (!this.finish) return;
    process.stderr.write(`ai-monitor tail: ${message}\n`);
    this.end(EXIT.FAILURE);
  }

  private end(code: number): void {
    const finish = this.finish;
    this.finish = null;
    finish?.(code);
  }
}

/** A close event, an error or GraphQL errors, as one phrase. */
function describeClose(event: unknown): string {
  if (Array.isArray(event)) return event.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  if (event instanceof Error) return event.message;
  const e = event as { code?: number; reason?: string; message?: string; error?: { message?: string } };
  if (typeof e?.code === 'number') {
    if (e.code === 4403 || e.code === 4401) return `the server refused the token (${e.code}${e.reason ? ` ${e.reason}` : ''}): check --token / AI_MONITOR_TOKEN`;
    return `code ${e.code}${e.reason ? `: ${e.reason}` : ''}`;
  }
  return e?.error?.message ?? e?.message ?? String(event);
}
