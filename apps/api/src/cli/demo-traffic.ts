/**
 * Simulated assistants for `ai-monitor demo`: several assistants (names, releases, models)
 * hold multi-turn sessions; each turn has an intent, tool calls with parameters and durations,
 * a log-normal (long-tailed) response time, token counts and, now and then, an error.
 *
 * With bursts on, a fixed schedule of simulated time adds error bursts and slow spells sized
 * to trip the seed's default alert rules (error rate above 5 % over 5 minutes, p95 above
 * 30 s, 3 errors in a row). Simulated time is record index / rate, so the same options give
 * the same phases whatever the machine's speed.
 */
import { FEEDBACK_SCALE, type InteractionWire } from '@ai-monitor/schema';
import { Random } from './demo-random.js';
import { INTENTS, type IntentProfile, type Lang } from './demo-scenarios.js';

// ---- the simulated world ----------------------------------------------------------------------

interface AssistantProfile {
  name: string;
  versions: readonly string[];
  models: readonly string[];
  /** Intent weights: what this assistant is mostly asked. */
  intents: readonly (readonly [string, number])[];
}

const ASSISTANTS: readonly AssistantProfile[] = [
  { name: 'helpdesk-assistant', versions: ['2.3.1', '2.4.0'], models: ['gpt-4o-mini'], intents: [['search', 4], ['summarize', 2], ['chitchat', 3], ['schedule', 1]] },
  { name: 'code-copilot', versions: ['1.12.0'], models: ['claude-sonnet-4'], intents: [['code', 7], ['search', 2], ['chitchat', 1]] },
  { name: 'travel-planner', versions: ['0.9.4', '0.9.5'], models: ['gemini-2.5-flash'], intents: [['schedule', 4], ['search', 2], ['translate', 2], ['weather', 3]] },
  { name: 'research-agent', versions: ['3.0.2'], models: ['gpt-4.1'], intents: [['search', 5], ['summarize', 4], ['translate', 1]] },
  { name: 'office-assistant', versions: ['5.1.0'], models: ['llama-3.3-70b'], intents: [['schedule', 3], ['email', 3], ['summarize', 2], ['chitchat', 1]] },
  { name: 'polyglot-bot', versions: ['1.0.7'], models: ['mistral-large'], intents: [['translate', 6], ['chitchat', 2], ['summarize', 1]] },
];

export const MAX_ASSISTANTS = ASSISTANTS.length;

/** USD per 1,000 input / output tokens, for plausible cost figures. */
const MODEL_PRICE: Record<string, readonly [number, number]> = {
  'gpt-4o-mini': [0.00015, 0.0006],
  'claude-sonnet-4': [0.003, 0.015],
  'gemini-2.5-flash': [0.0003, 0.0025],
  'gpt-4.1': [0.002, 0.008],
  'llama-3.3-70b': [0.0006, 0.0008],
  'mistral-large': [0.002, 0.006],
};

/** Error types of ordinary failures, by weight. */
const BASE_ERRORS: readonly (readonly [string, number])[] = [
  ['tool_error', 4],
  ['timeout', 2],
  ['rate_limit', 2],
  ['invalid_input', 2],
  ['context_length_exceeded', 1],
];

// ---- the schedule of incidents ------------------------------------------------------------------

export type Phase = 'normal' | 'error burst' | 'slow spell';

/** One 10-minute cycle of simulated time, in seconds: [start, end, phase]. */
const CYCLE_S = 600;
const INCIDENTS: readonly (readonly [number, number, Phase])[] = [
  [30, 90, 'error burst'],
  [210, 270, 'slow spell'],
];
/** During a burst about half the turns fail, mostly with one error type per burst. */
const BURST_ERROR_RATE = 0.5;
const BURST_TYPES = ['rate_limit', 'tool_error', 'timeout'] as const;

export function phaseAt(simSeconds: number, bursts: boolean): Phase {
  if (!bursts) return 'normal';
  const t = simSeconds % CYCLE_S;
  return INCIDENTS.find(([from, to]) => t >= from && t < to)?.[2] ?? 'normal';
}

// ---- sessions -----------------------------------------------------------------------------------

/** Think time between a turn's answer and the user's next question: log-normal, bounded. */
export const THINK_MS = { min: 2_000, median: 8_000, max: 120_000 } as const;
/** Share of sessions whose user writes in Chinese. */
const CHINESE_SHARE = 0.6;

interface Session {
  id: string;
  assistant: AssistantProfile;
  version: string;
  model: string;
  userId: string;
  channel: string;
  lang: Lang;
  turnsLeft: number;
  intent: string;
  /** Epoch ms before which the next turn cannot start: the last turn's end plus think time. */
  readyAt: number;
}

export interface TrafficOptions {
  assistants: number;
  bursts: boolean;
  seed: number;
}

export interface GeneratedRecord {
  record: InteractionWire;
  phase: Phase;
}

/**
 * Produces interaction records, one per call, as the simulated assistants would report them.
 * A record is a turn starting at `now` (its timestamp). A session's next turn starts only once
 * the previous one has finished and its user has thought; when no session is ready, a new
 * conversation opens. So the number of concurrent conversations follows the rate, and the
 * turns of many conversations interleave as real traffic does.
 */
export class TrafficModel {
  private readonly rnd: Random;
  private readonly assistants: readonly AssistantProfile[];
  /** Open sessions, the one ready first on top. */
  private readonly waiting = new MinHeap<Session>((s) => s.readyAt);
  private sessionCounter = 0;

  constructor(private readonly opts: TrafficOptions) {
    this.rnd = new Random(opts.seed);
    this.assistants = ASSISTANTS.slice(0, Math.max(1, Math.min(opts.assistants, ASSISTANTS.length)));
  }

  /** The next interaction, a turn starting at wall-clock `now`, `simSeconds` into the run. */
  next(now: Date, simSeconds: number): GeneratedRecord {
    const phase = phaseAt(simSeconds, this.opts.bursts);
    const top = this.waiting.peek();
    const session = top && top.readyAt <= now.getTime() ? this.waiting.pop()! : this.newSession(now);
    const record = this.turn(session, now, phase, simSeconds);
    session.turnsLeft -= 1;
    if (session.turnsLeft > 0) {
      session.readyAt = now.getTime() + record.response_time_ms + this.thinkTime();
      this.waiting.push(session);
    }
    return { record, phase };
  }

  private thinkTime(): number {
    return Math.round(Math.min(THINK_MS.max, Math.max(THINK_MS.min, this.rnd.logNormal(THINK_MS.median, 0.7))));
  }

  private newSession(now: Date): Session {
    const assistant = this.rnd.pick(this.assistants);
    this.sessionCounter += 1;
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
    return {
      // The seed's session ids look like 20260217_143000.
      id: `${stamp}-${assistant.name.split('-')[0]}-${this.rnd.hex(4)}${this.sessionCounter}`,
      assistant,
      version: this.rnd.pick(assistant.versions),
      model: this.rnd.pick(assistant.models),
      userId: `user-${this.rnd.int(1, 250)}`,
      channel: this.rnd.pick(['web', 'wechat', 'api', 'mobile']),
      lang: this.rnd.chance(CHINESE_SHARE) ? 'zh' : 'en',
      // Mostly short conversations, some long ones.
      turnsLeft: Math.min(12, 1 + Math.floor(this.rnd.logNormal(2.5, 0.7))),
      intent: this.rnd.weighted(assistant.intents),
      readyAt: now.getTime(),
    };
  }

  private turn(s: Session, now: Date, phase: Phase, simSeconds: number): InteractionWire {
    // Conversations mostly stay on topic.
    if (!this.rnd.chance(0.65)) s.intent = this.rnd.weighted(s.assistant.intents);
    const profile = INTENTS[s.intent]!;
    const { userInput, tools } = this.rnd.pick(profile.scenarios)({ r: this.rnd, lang: s.lang, now });
    const toolTime = tools.reduce((sum, t) => sum + (t.duration_ms ?? 0), 0);
    // Model time: log-normal, and 1 % of turns in a much longer tail (retries, huge contexts).
    let responseMs = this.rnd.logNormal(profile.medianMs, 0.55) * (this.rnd.chance(0.01) ? this.rnd.int(4, 10) : 1) + toolTime;
    if (phase === 'slow spell') responseMs = Math.max(responseMs * 12, 31_000 + this.rnd.logNormal(9_000, 0.5));

    const errorType = this.errorFor(profile, phase, responseMs, simSeconds);
    if (errorType === 'tool_error' && tools.length > 0) {
      const failed = tools[tools.length - 1]!;
      failed.success = false;
      failed.error = this.rnd.pick(['HTTP 502 from upstream', 'connection reset', 'quota exceeded', 'malformed response']);
    }
    if (errorType === 'timeout') responseMs = Math.max(responseMs, phase === 'slow spell' ? 60_000 : 30_000);
    const inputTokens = Math.round(this.rnd.logNormal(s.intent === 'summarize' ? 2500 : 400, 0.6));
    const outputTokens = errorType ? 0 : Math.round(this.rnd.logNormal(s.intent === 'code' ? 600 : 220, 0.6));
    const [inPrice, outPrice] = MODEL_PRICE[s.model] ?? [0.001, 0.002];
    return {
      session_id: s.id,
      timestamp: now.toISOString(),
      user_input: userInput,
      intent: s.intent,
      tools_used: tools,
      response_time_ms: Math.round(responseMs),
      success: errorType === null,
      error_type: errorType,
      assistant: s.assistant.name,
      version: s.version,
      model: s.model,
      user_id: s.userId,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cost_usd: Number(((inputTokens * inPrice + outputTokens * outPrice) / 1000).toFixed(6)),
      // Some users rate the answer, on the 1-5 feedback scale.
      ...(this.rnd.chance(0.08) ? { feedback_score: this.rnd.int(FEEDBACK_SCALE.min, FEEDBACK_SCALE.max) } : {}),
      metadata: { demo: true, channel: s.channel, language: s.lang },
    };
  }

  private errorFor(profile: IntentProfile, phase: Phase, responseMs: number, simSeconds: number): string | null {
    if (phase === 'error burst' && this.rnd.chance(BURST_ERROR_RATE)) {
      const cycle = Math.floor(simSeconds / CYCLE_S);
      // Each burst has a dominant cause, as real incidents do.
      return this.rnd.chance(0.8) ? BURST_TYPES[cycle % BURST_TYPES.length]! : this.rnd.weighted(BASE_ERRORS);
    }
    if (phase === 'slow spell' && this.rnd.chance(0.1)) return 'timeout';
    if (phase === 'normal' && responseMs > 45_000) return 'timeout';
    return this.rnd.chance(profile.errorRate) ? this.rnd.weighted(BASE_ERRORS) : null;
  }
}

/** A binary min-heap on a numeric key: the session ready first, in O(log n), at any rate. */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly key: (item: T) => number) {}

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key(a[parent]!) <= this.key(a[i]!)) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.key(a[l]!) < this.key(a[m]!)) m = l;
      if (r < a.length && this.key(a[r]!) < this.key(a[m]!)) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
    return top;
  }
}
