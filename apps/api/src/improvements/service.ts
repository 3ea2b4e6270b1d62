/**
 * The improvement tracker: create and edit improvements, judge their status from the release
 * comparison as traffic arrives (at most once per `judgeEveryMs`, after commits), notify the
 * alert webhook when a verdict is reached, export the Markdown table. Several replicas may
 * judge at once: the verdict is stored by compare-and-set on the previous status, and only
 * the replica whose write won sends the notification.
 */
import { ALERT_KINDS } from '@ai-monitor/schema';
import type { Logger } from '../log/logger.js';
import type { LocalPubSub } from '../pubsub/topics.js';
import type { ImprovementStore } from '../store/types.js';
import { FINAL_STATUSES, type Improvement, type ImprovementStatus, type ProblemKind } from '../model/improvement.js';
import type { DeliveryOutcome } from '../model/alert.js';
import type { ReleaseComparison, ReleaseService } from '../releases/service.js';
import { DEFAULT_RETRY } from '../alerts/notify/retry.js';
import { postWebhookJson } from '../alerts/notify/webhook.js';
import { newId } from '../ingest/ids.js';
import { judge } from './judge.js';
import { evidenceText, improvementsMarkdown } from './markdown.js';

export class ImprovementInputError extends Error {
  override name = 'ImprovementInputError';
}

export interface ImprovementInput {
  title: string;
  problemKind: ProblemKind;
  problem: string;
  assistant?: string | null;
  baseline: string;
  fix?: string | null;
}

export interface ImprovementPatch {
  title?: string | null;
  problemKind?: ProblemKind | null;
  problem?: string | null;
  baseline?: string | null;
  /** Empty string: no fix release yet. */
  fix?: string | null;
  /** Set by hand (e.g. back to open to judge again). */
  status?: ImprovementStatus | null;
}

export interface ImprovementServiceOptions {
  store: ImprovementStore;
  releases: ReleaseService;
  local: LocalPubSub;
  /** The alert settings' webhook URL, read at notification time. */
  webhookUrl: () => string | null;
  logger: Logger;
  /** Judging runs at most this often while traffic arrives. */
  judgeEveryMs?: number;
  /** The traffic judged: this long before now. */
  windowMs?: number;
  minSample?: number;
}

const MAX_TITLE = 200;
const MAX_PROBLEM = 2000;
const MAX_VERSION = 200;

function text(value: string | null | undefined, field: string, max: number, required: boolean): string | null {
  if (value === null || value === undefined || value.trim() === '') {
    if (required) throw new ImprovementInputError(`${field}: must not be empty`);
    return null;
  }
  if (value.length > max) throw new ImprovementInputError(`${field}: at most ${max} characters`);
  return value.trim();
}

function checkProblem(kind: ProblemKind, problem: string): void {
  if (kind === 'alert' && !(ALERT_KINDS as readonly string[]).includes(problem)) {
    throw new ImprovementInputError(`problem: an alert problem names an alert kind (${ALERT_KINDS.join(', ')}), got "${problem.slice(0, 40)}"`);
  }
  if (kind === 'filter') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(problem);
    } catch {
      throw new ImprovementInputError('problem: a filter problem is the explorer filter as a JSON object');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ImprovementInputError('problem: a filter problem is the explorer filter as a JSON object');
  }
}

export class ImprovementService {
  private readonly judgeEveryMs: number;
  private readonly windowMs: number;
  private readonly minSample: number;
  private stopped = false;
  private iterator: AsyncIterator<number> | null = null;
  private running: Promise<void> | null = null;
  private readonly shutdown = new AbortController();
  private readonly deliveries = new Set<Promise<void>>();

  constructor(private readonly opts: ImprovementServiceOptions) {
    this.judgeEveryMs = opts.judgeEveryMs ?? 2000;
    this.windowMs = opts.windowMs ?? 30 * 86_400_000;
    this.minSample = opts.minSample ?? 100;
  }

  list(status: ImprovementStatus | null): Promise<Improvement[]> {
    return this.opts.store.listImprovements(status);
  }

  get(id: string): Promise<Improvement | null> {
    return this.opts.store.getImprovement(id);
  }

  async markdown(): Promise<string> {
    return improvementsMarkdown(await this.list(null));
  }

  async create(input: ImprovementInput, now = Date.now()): Promise<Improvement> {
    const title = text(input.title, 'title', MAX_TITLE, true)!;
    const problem = text(input.problem, 'problem', MAX_PROBLEM, true)!;
    checkProblem(input.problemKind, problem);
    const baseline = text(input.baseline, 'baseline', MAX_VERSION, true)!;
    const fix = text(input.fix, 'fix', MAX_VERSION, false);
    if (fix === baseline) throw new ImprovementInputError('fix: must differ from baseline');
    const created = await this.opts.store.insertImprovement({
      id: newId(now),
      title,
      problemKind: input.problemKind,
      problem,
      assistant: input.assistant ?? '',
      baseline,
      fix,
      status: 'open',
      createdAt: now,
      updatedAt: now,
      judgedAt: null,
      evidence: null,
      delivery: null,
    });
    return this.judgeOne(created);
  }

  async update(id: string, patch: ImprovementPatch, now = Date.now()): Promise<Improvement | null> {
    const current = await this.opts.store.getImprovement(id);
    if (!current) return null;
    const next: Improvement = { ...current, updatedAt: now };
    if (patch.title !== undefined && patch.title !== null) next.title = text(patch.title, 'title', MAX_TITLE, true)!;
    if (patch.problemKind) next.problemKind = patch.problemKind;
    if (patch.problem !== undefined && patch.problem !== null) next.problem = text(patch.problem, 'problem', MAX_PROBLEM, true)!;
    checkProblem(next.problemKind, next.problem);
    if (patch.baseline !== undefined && patch.baseline !== null) next.baseline = text(patch.baseline, 'baseline', MAX_VERSION, true)!;
    if (patch.fix !== undefined) next.fix = text(patch.fix, 'fix', MAX_VERSION, false);
    if (next.fix === next.baseline) throw new ImprovementInputError('fix: must differ from baseline');
    const releaseChanged = next.fix !== current.fix || next.baseline !== current.baseline || next.problem !== current.problem || next.problemKind !== current.problemKind;
    if (patch.status) next.status = patch.status;
    else if (releaseChanged) next.status = 'open'; // judged again from scratch
    if (next.status === 'open' || next.status === 'fix_released') next.evidence = releaseChanged ? null : next.evidence;
    const stored = await this.opts.store.replaceImprovement(next, null);
    return stored && !patch.status ? this.judgeOne(stored) : stored;
  }

  /** Follows commits: judges every pending improvement at most once per `judgeEveryMs`. */
  start(): void {
    const iterable = this.opts.local.subscribe('metricsTick');
    this.iterator = iterable[Symbol.asyncIterator]();
    this.running = (async () => {
      let last = 0;
      while (!this.stopped) {
        const next = await this.iterator!.next();
        if (next.done || this.stopped) return;
        const wait = last + this.judgeEveryMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
        if (this.stopped) return;
        last = Date.now();
        await this.judgePending().catch((err: unknown) => this.opts.logger.error({ err }, `improvement judging failed: ${(err as Error).message}`));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.iterator?.return?.();
    await this.running;
    this.shutdown.abort();
    await Promise.all([...this.deliveries]);
  }

  /** Judges every improvement not yet at a final status. */
  async judgePending(now = Date.now()): Promise<void> {
    const cache = new Map<string, Promise<ReleaseComparison>>();
    for (const i of await this.opts.store.listImprovements(null)) {
      if (FINAL_STATUSES.includes(i.status)) continue;
      await this.judgeOne(i, now, cache);
    }
  }

  private comparison(i: Improvement, now: number, cache?: Map<string, Promise<ReleaseComparison>>): Promise<ReleaseComparison> | null {
    if (!i.fix) return null;
    const key = JSON.stringify([i.assistant, i.baseline, i.fix]);
    let c = cache?.get(key);
    if (!c) {
      c = this.opts.releases.compare({
        assistant: i.assistant,
        baseline: i.baseline,
        candidate: i.fix,
        range: { from: now - this.windowMs, to: now },
        limit: 200,
        options: { minSample: this.minSample },
      });
      cache?.set(key, c);
    }
    return c;
  }

  private async judgeOne(i: Improvement, now = Date.now(), cache?: Map<string, Promise<ReleaseComparison>>): Promise<Improvement> {
    if (FINAL_STATUSES.includes(i.status)) return i;
    const c = await this.comparison(i, now, cache);
    const j = judge(i, c);
    if (j.status === i.status && JSON.stringify(j.evidence) === JSON.stringify(i.evidence)) return i;
    const next: Improvement = { ...i, status: j.status, evidence: j.evidence, judgedAt: now, updatedAt: j.status === i.status ? i.updatedAt : now };
    const stored = await this.opts.store.replaceImprovement(next, i.status);
    if (!stored) return (await this.opts.store.getImprovement(i.id)) ?? i; // another replica judged it first
    if (stored.status !== i.status) {
      this.opts.logger.info({ improvement: i.id, from: i.status, to: stored.status }, `improvement "${i.title}": ${stored.status}`);
      if (FINAL_STATUSES.includes(stored.status)) this.notify(stored);
    }
    return stored;
  }

  /** Sends the verdict to the webhook, off the caller's path; the outcome is stored on the improvement. */
  private notify(i: Improvement): void {
    const url = this.opts.webhookUrl();
    if (!url) return;
    const payload = {
      text: `Improvement "${i.title}" ${i.status.replace('_', ' ')}: ${i.fix} against ${i.baseline}${i.assistant ? ` (${i.assistant})` : ''}, ${evidenceText(i)}`,
      kind: 'improvement',
      id: i.id,
      title: i.title,
      status: i.status,
      problemKind: i.problemKind,
      problem: i.problem,
      assistant: i.assistant || null,
      baseline: i.baseline,
      fix: i.fix,
      evidence: i.evidence,
    };
    const job = (async () => {
      const result = await postWebhookJson(url, payload, DEFAULT_RETRY, this.shutdown.signal);
      const delivery: DeliveryOutcome = { channel: 'webhook', ok: result.ok, attempts: result.attempts, at: Date.now(), detail: result.detail };
      if (!result.ok) this.opts.logger.warn({ improvement: i.id }, `improvement webhook failed: ${result.detail}`);
      const current = await this.opts.store.getImprovement(i.id);
      if (current) await this.opts.store.replaceImprovement({ ...current, delivery }, current.status);
    })().catch((err: unknown) => this.opts.logger.error({ err }, `improvement webhook failed: ${(err as Error).message}`));
    this.deliveries.add(job);
    void job.finally(() => this.deliveries.delete(job));
  }
}
