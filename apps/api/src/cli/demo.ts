/**
 * `ai-monitor demo`: realistic traffic from simulated assistants, sent to a running server
 * through the seed WebSocket protocol (or HTTP batch ingest), paced at --rate, bounded by
 * --duration / --count or Ctrl-C, with a progress line per second and a summary.
 */
import { Option, type Command } from 'commander';
import type { InteractionWire } from '@ai-monitor/schema';
import { action, CliFailure, durationArg, EXIT, intArg, rateArg, tokenOf } from './common.js';
import { parseServerUrl, URL_HELP } from './remote.js';
import { MAX_ASSISTANTS, TrafficModel, type Phase } from './demo-traffic.js';
import { ConnectionLostError, HttpSender, SeedWsSender, type Sender, type SendResult } from './demo-senders.js';
import { formatCount, formatPercent, formatRate } from './output.js';

interface DemoFlags {
  url?: string;
  rate: number;
  duration?: number;
  count?: number;
  assistants: number;
  burstErrors?: boolean;
  transport: 'ws' | 'http';
  token?: string;
  batch: number;
  seed?: number;
  quiet?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('send realistic traffic from simulated assistants to a running server')
    .option('-u, --url <url>', URL_HELP)
    .option('-r, --rate <rate>', 'interactions per second: 10, 10/s or 600/m', rateArg, 10)
    .option('--duration <time>', 'stop after this long: 30s, 5m, 1h (default: until Ctrl-C)', durationArg)
    .option('-n, --count <n>', 'stop after sending this many interactions', intArg(1, 1_000_000_000))
    .option('-a, --assistants <n>', `simulated assistants (1-${MAX_ASSISTANTS})`, intArg(1, MAX_ASSISTANTS), 3)
    .option('--burst-errors', 'add error bursts and slow spells every 10 minutes (from 30 s in) that trip the alert rules')
    .addOption(new Option('-t, --transport <kind>', 'seed WebSocket protocol or HTTP batch ingest').choices(['ws', 'http']).default('ws'))
    .option('--token <token>', 'token with ingest access (env AI_MONITOR_TOKEN)')
    .option('--batch <n>', 'most interactions per message', intArg(1, 5000), 500)
    .option('--seed <n>', 'random seed, for repeatable traffic', intArg(0, 4_294_967_295))
    .option('-q, --quiet', 'no progress lines, only the summary')
    .addHelpText(
      'after',
      `
Each simulated assistant holds multi-turn sessions with intents (search, summarize, code,
translate, schedule, weather, email, chitchat) in English and Chinese, tool calls whose
parameters come from the question (a weather question for Beijing calls weather_api with
{"city": "Beijing"}), long-tailed response times and occasional errors (tool_error, timeout,
rate_limit, invalid_input, context_length_exceeded). A session's next turn starts after the
previous one has finished plus a few seconds of thinking; some answers get a 1-5 feedback score.

Exit status: 0 when every interaction sent was stored; 1 when the server could not be
reached or some were refused or lost; 2 for bad options.

Examples:
  ai-monitor demo                                   # 10/s until Ctrl-C
  ai-monitor demo --rate 200/s --duration 5m --burst-errors
  ai-monitor demo --count 1000 --rate 500 --transport http --url http://monitor:8765`,
    )
    .action(action('demo', (flags: DemoFlags) => runDemo(flags)));
}

async function runDemo(flags: DemoFlags): Promise<number> {
  const server = parseServerUrl(flags.url);
  const token = tokenOf(flags.token);
  const sender: Sender = flags.transport === 'http' ? new HttpSender(server, token) : new SeedWsSender(server, token);
  await sender.open();
  const bound = [flags.count !== undefined ? `${formatCount(flags.count)} interactions` : '', flags.duration !== undefined ? `${flags.duration / 1000} s` : '']
    .filter(Boolean)
    .join(' or ');
  say(`demo: ${flags.assistants} assistant(s) → ${sender.target} at ${formatRate(flags.rate)}, ${bound ? `stopping after ${bound}` : 'until Ctrl-C'}${flags.burstErrors ? ', with error bursts and slow spells' : ''}`);
  const run = new DemoRun(sender, flags);
  const summary = await run.execute();
  printSummary(summary, sender.target);
  if (summary.fatal) throw summary.fatal;
  return summary.rejected > 0 || summary.lost > 0 ? EXIT.FAILURE : EXIT.OK;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const TICK_MS = 100;
const PROGRESS_MS = 1000;
const DRAIN_TIMEOUT_MS = 35_000;

interface Summary {
  seconds: number;
  sent: number;
  stored: number;
  rejected: number;
  lost: number;
  failedSimulated: number;
  errorTypes: Map<string, number>;
  phases: Set<Phase>;
  firstRejection: string | null;
  interrupted: boolean;
  fatal: Error | null;
}

/** One demo run: pacing, sending, counting, reconnecting, stopping. */
class DemoRun {
  private readonly model: TrafficModel;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightRecords = 0;
  private readonly s: Summary = {
    seconds: 0,
    sent: 0,
    stored: 0,
    rejected: 0,
    lost: 0,
    failedSimulated: 0,
    errorTypes: new Map(),
    phases: new Set(),
    firstRejection: null,
    interrupted: false,
    fatal: null,
  };
  private generated = 0;
  private phase: Phase = 'normal';
  /** Pacing restarts from here after a reconnect, so a backlog is not fired at once. */
  private paceFrom = { at: 0, count: 0 };
  private connected = true;
  private stopping = false;
  private readonly maxInFlight: number;

  constructor(
    private readonly sender: Sender,
    private readonly flags: DemoFlags,
  ) {
    this.model = new TrafficModel({ assistants: flags.assistants, bursts: flags.burstErrors === true, seed: flags.seed ?? (Date.now() >>> 0) });
    // About ten seconds of traffic may wait for acks before pacing holds back.
    this.maxInFlight = Math.max(flags.batch * 4, Math.ceil(flags.rate * 10));
  }

  async execute(): Promise<Summary> {
    const started = Date.now();
    this.paceFrom = { at: started, count: 0 };
    const onSigint = (): void => {
      if (this.stopping) process.exit(130);
      this.s.interrupted = true;
      this.stopping = true;
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    let lastProgress = started;
    let last = { sent: 0, stored: 0, rejected: 0 };
    try {
      while (!this.stopping) {
        const now = Date.now();
        if (this.boundReached(now - started)) break;
        if (this.connected) this.tick(now);
        if (!this.flags.quiet && now - lastProgress >= PROGRESS_MS) {
          this.progress((now - started) / 1000, last, (now - lastProgress) / 1000);
          last = { sent: this.s.sent, stored: this.s.stored, rejected: this.s.rejected };
          lastProgress = now;
        }
        await sleep(TICK_MS);
      }
      await this.drain();
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await this.sender.close();
    }
    this.s.seconds = (Date.now() - started) / 1000;
    return this.s;
  }

  private boundReached(elapsedMs: number): boolean {
    if (this.flags.count !== undefined && this.generated >= this.flags.count) return true;
    return this.flags.duration !== undefined && elapsedMs >= this.flags.duration;
  }

  /** Generates and sends what is due by now at --rate. */
  private tick(now: number): void {
    const due = this.paceFrom.count + Math.floor(((now - this.paceFrom.at) / 1000) * this.flags.rate) + 1;
    const limit = this.flags.count ?? Number.POSITIVE_INFINITY;
    let want = Math.min(due, limit) - this.generated;
    while (want > 0 && this.inFlightRecords < this.maxInFlight) {
      const n = Math.min(want, this.flags.batch);
      const batch: InteractionWire[] = [];
      for (let i = 0; i < n; i++) batch.push(this.generate(new Date(now)));
      this.dispatch(batch);
      want -= n;
    }
  }

  private generate(now: Date): InteractionWire {
    const { record, phase } = this.model.next(now, this.generated / this.flags.rate);
    this.generated += 1;
    this.phase = phase;
    this.s.phases.add(phase);
    if (!record.success) {
      this.s.failedSimulated += 1;
      const type = record.error_type ?? 'unknown';
      this.s.errorTypes.set(type, (this.s.errorTypes.get(type) ?? 0) + 1);
    }
    return record;
  }

  private dispatch(batch: InteractionWire[]): void {
    this.s.sent += batch.length;
    this.inFlightRecords += batch.length;
    const p = this.sender
      .send(batch)
      .then((r: SendResult) => this.onResult(r))
      .catch((err: unknown) => this.onSendError(err, batch.length))
      .finally(() => {
        this.inFlightRecords -= batch.length;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  private onResult(r: SendResult): void {
    this.s.stored += r.accepted;
    this.s.rejected += r.rejected.length;
    if (r.rejected.length > 0 && !this.s.firstRejection) {
      this.s.firstRejection = r.rejected[0]!.error;
      process.stderr.write(`ai-monitor demo: the server refused ${r.rejected.length} record(s): ${r.rejected[0]!.error}\n`);
    }
  }

  private onSendError(err: unknown, size: number): void {
    this.s.lost += size;
    if (err instanceof ConnectionLostError) {
      if (this.connected && !this.stopping) void this.reconnect(err.message);
      return;
    }
    // Anything else (a refused token, an unexpected reply) will not get better by retrying.
    this.s.fatal ??= err instanceof Error ? err : new CliFailure(String(err));
    this.stopping = true;
  }

  /** Reconnects with back-off (0.5 s doubling to 10 s) until it works or the run stops. */
  private async reconnect(reason: string): Promise<void> {
    this.connected = false;
    await this.sender.close();
    for (let attempt = 0; !this.stopping; attempt++) {
      const wait = Math.min(10_000, 500 * 2 ** attempt);
      process.stderr.write(`ai-monitor demo: connection lost (${reason}); reconnecting in ${(wait / 1000).toFixed(1)} s\n`);
      await sleep(wait);
      if (this.stopping) return;
      try {
        await this.sender.open();
        process.stderr.write(`ai-monitor demo: reconnected to ${this.sender.target}\n`);
        this.paceFrom = { at: Date.now(), count: this.generated };
        this.connected = true;
        return;
      } catch (err) {
        reason = (err as Error).message;
      }
    }
  }

  private async drain(): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.inFlight.size > 0 && Date.now() < deadline) await Promise.race([...this.inFlight, sleep(200)]);
  }

  private progress(elapsed: number, last: { sent: number; stored: number; rejected: number }, span: number): void {
    const rate = (this.s.sent - last.sent) / Math.max(span, 0.001);
    const parts = [
      `${elapsed.toFixed(0).padStart(4)}s`,
      `sent ${formatCount(this.s.sent)} (${formatRate(rate)})`,
      `stored ${formatCount(this.s.stored)}`,
      `rejected ${formatCount(this.s.rejected)}`,
      `awaiting ack ${formatCount(this.inFlightRecords)}`,
    ];
    if (this.s.lost > 0) parts.push(`lost ${formatCount(this.s.lost)}`);
    if (this.phase !== 'normal') parts.push(`[${this.phase}]`);
    if (!this.connected) parts.push('[reconnecting]');
    say(parts.join('  '));
  }
}

function printSummary(s: Summary, target: string): void {
  const how = s.fatal ? 'stopped by an error' : s.interrupted ? 'interrupted' : 'finished';
  say(`demo ${how} after ${s.seconds.toFixed(1)} s: sent ${formatCount(s.sent)} interactions to ${target} (${formatRate(s.sent / Math.max(s.seconds, 0.001))})`);
  say(`  stored ${formatCount(s.stored)}, rejected ${formatCount(s.rejected)}, lost ${formatCount(s.lost)}`);
  if (s.sent > 0) {
    const types = [...s.errorTypes.entries()].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', ');
    say(`  simulated failures: ${formatCount(s.failedSimulated)} (${formatPercent((100 * s.failedSimulated) / s.sent)})${types ? `: ${types}` : ''}`);
  }
  const incidents = [...s.phases].filter((p) => p !== 'normal');
  if (incidents.length > 0) say(`  incidents simulated: ${incidents.join(', ')}`);
  if (s.firstRejection) say(`  first refusal: ${s.firstRejection}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
