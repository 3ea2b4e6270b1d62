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
import type { InteractionWire, ToolUseWire } from '@ai-monitor/schema';

// ---- randomness -----------------------------------------------------------------------------

/** Small seeded PRNG (mulberry32): reproducible demos with --seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Log-normal with the given median and shape: most values near the median, a long right tail. */
  logNormal(median: number, sigma: number): number {
    const u1 = Math.max(this.next(), 1e-12);
    const u2 = this.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * z);
  }

  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.next() * 16).toString(16);
    return s;
  }
}

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

const TOPICS = ['solar panels', 'the 2026 budget', 'vector databases', 'sleep research', 'electric bikes', 'GDPR fines', 'coral reefs', 'quantum error correction'];
const CITIES = ['Lisbon', 'Osaka', 'Nairobi', 'Toronto', 'Berlin', 'Lima', 'Hanoi', 'Oslo'];
const LANGS = ['French', 'Japanese', 'Spanish', 'German', 'Swahili', 'Portuguese'];
const CODE_LANGS = ['TypeScript', 'Python', 'Go', 'Rust', 'SQL'];
const PEOPLE = ['Amira', 'Jonas', 'Mei', 'Carlos', 'Priya', 'Tom'];
const DAYS = ['tomorrow', 'Monday', 'Friday', 'next Tuesday', 'the 14th'];

interface IntentProfile {
  /** Median model time in ms, before tool calls. */
  medianMs: number;
  inputs: readonly ((r: Random) => string)[];
  /** Tool chains this intent may run; one is chosen per turn. */
  chains: readonly (readonly ((r: Random) => ToolUseWire)[])[];
  /** Baseline chance of failing. */
  errorRate: number;
}

const tool = (name: string, medianMs: number, params: (r: Random) => Record<string, unknown>) =>
  (r: Random): ToolUseWire => ({ tool: name, params: params(r), duration_ms: Math.round(r.logNormal(medianMs, 0.6)), success: true });

const webSearch = tool('web_search', 450, (r) => ({ query: r.pick(TOPICS), top_k: r.pick([3, 5, 10]) }));
const fetchPage = tool('fetch_page', 700, (r) => ({ url: `https://example.org/${r.pick(['news', 'docs', 'wiki'])}/${r.hex(6)}` }));
const readDoc = tool('read_document', 300, (r) => ({ doc_id: `doc-${r.hex(8)}`, pages: r.int(1, 40) }));
const kbLookup = tool('kb_lookup', 120, (r) => ({ query: r.pick(TOPICS), index: 'support-articles' }));
const codeRun = tool('code_interpreter', 1800, (r) => ({ language: r.pick(CODE_LANGS), lines: r.int(5, 300) }));
const repoSearch = tool('repo_search', 350, (r) => ({ query: r.pick(['parseConfig', 'retry logic', 'auth middleware', 'flaky test']), repo: 'acme/platform' }));
const runTests = tool('run_tests', 6000, (r) => ({ suite: r.pick(['unit', 'integration']), files: r.int(1, 12) }));
const translateApi = tool('translate_api', 250, (r) => ({ source: 'en', target: r.pick(LANGS).slice(0, 2).toLowerCase(), chars: r.int(20, 2000) }));
const calLookup = tool('calendar_lookup', 200, (r) => ({ date: r.pick(DAYS), attendees: r.int(1, 5) }));
const calCreate = tool('calendar_create', 350, (r) => ({ title: `Sync with ${r.pick(PEOPLE)}`, start: `${r.int(8, 17)}:00`, duration_min: r.pick([15, 30, 60]) }));
const weatherApi = tool('weather_api', 180, (r) => ({ city: r.pick(CITIES), units: 'metric' }));
const emailDraft = tool('email_draft', 400, (r) => ({ to: `${r.pick(PEOPLE).toLowerCase()}@example.com`, tone: r.pick(['formal', 'friendly']) }));
const emailSend = tool('email_send', 500, () => ({ provider: 'smtp' }));

const INTENTS: Record<string, IntentProfile> = {
  search: {
    medianMs: 900,
    errorRate: 0.02,
    inputs: [(r) => `find recent articles about ${r.pick(TOPICS)}`, (r) => `what is the population of ${r.pick(CITIES)}?`, (r) => `who leads research on ${r.pick(TOPICS)}?`],
    chains: [[webSearch], [webSearch, fetchPage], [kbLookup]],
  },
  summarize: {
    medianMs: 2200,
    errorRate: 0.02,
    inputs: [(r) => `summarize this report on ${r.pick(TOPICS)}`, () => 'give me the key points of the attached PDF', (r) => `tl;dr of the thread about ${r.pick(TOPICS)}`],
    chains: [[readDoc], [fetchPage], [readDoc, readDoc]],
  },
  code: {
    medianMs: 3200,
    errorRate: 0.04,
    inputs: [(r) => `write a ${r.pick(CODE_LANGS)} function that deduplicates a list`, (r) => `why does my ${r.pick(CODE_LANGS)} code throw a null reference?`, () => 'refactor this module to remove the global state'],
    chains: [[repoSearch], [codeRun], [repoSearch, codeRun], [codeRun, runTests]],
  },
  translate: {
    medianMs: 700,
    errorRate: 0.015,
    inputs: [(r) => `translate "see you next week" into ${r.pick(LANGS)}`, (r) => `how do I say "thank you for your patience" in ${r.pick(LANGS)}?`],
    chains: [[translateApi], []],
  },
  schedule: {
    medianMs: 800,
    errorRate: 0.03,
    inputs: [(r) => `book a meeting with ${r.pick(PEOPLE)} ${r.pick(DAYS)} at ${r.int(8, 17)}:00`, (r) => `am I free ${r.pick(DAYS)} afternoon?`, () => 'move my 3 pm call to Thursday'],
    chains: [[calLookup], [calLookup, calCreate]],
  },
  weather: {
    medianMs: 500,
    errorRate: 0.01,
    inputs: [(r) => `what's the weather in ${r.pick(CITIES)} ${r.pick(DAYS)}?`, (r) => `do I need an umbrella in ${r.pick(CITIES)}?`],
    chains: [[weatherApi]],
  },
  email: {
    medianMs: 1400,
    errorRate: 0.025,
    inputs: [(r) => `draft a reply to ${r.pick(PEOPLE)} declining politely`, (r) => `send the meeting notes to ${r.pick(PEOPLE)}`],
    chains: [[emailDraft], [emailDraft, emailSend]],
  },
  chitchat: {
    medianMs: 450,
    errorRate: 0.005,
    inputs: [() => 'hi there!', () => 'tell me a joke', () => 'thanks, that helped', () => 'what can you do?'],
    chains: [[]],
  },
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

interface Session {
  id: string;
  assistant: AssistantProfile;
  version: string;
  model: string;
  userId: string;
  channel: string;
  turnsLeft: number;
  intent: string;
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

/** Produces interaction records, one per call, as the simulated assistants would report them. */
export class TrafficModel {
  private readonly rnd: Random;
  private readonly assistants: readonly AssistantProfile[];
  private readonly sessions: Session[] = [];
  private sessionCounter = 0;

  constructor(private readonly opts: TrafficOptions) {
    this.rnd = new Random(opts.seed);
    this.assistants = ASSISTANTS.slice(0, Math.max(1, Math.min(opts.assistants, ASSISTANTS.length)));
    // A few concurrent conversations per assistant, interleaved as real traffic is.
    for (let i = 0; i < this.assistants.length * 4; i++) this.sessions.push(this.newSession(new Date()));
  }

  /** The next interaction at wall-clock `now`, `simSeconds` into the run. */
  next(now: Date, simSeconds: number): GeneratedRecord {
    const phase = phaseAt(simSeconds, this.opts.bursts);
    const slot = this.rnd.int(0, this.sessions.length - 1);
    const session = this.sessions[slot]!;
    const record = this.turn(session, now, phase, simSeconds);
    session.turnsLeft -= 1;
    if (session.turnsLeft <= 0) this.sessions[slot] = this.newSession(now);
    return { record, phase };
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
      channel: this.rnd.pick(['web', 'slack', 'api', 'mobile']),
      // Mostly short conversations, some long ones.
      turnsLeft: Math.min(12, 1 + Math.floor(this.rnd.logNormal(2.5, 0.7))),
      intent: this.rnd.weighted(assistant.intents),
    };
  }

  private turn(s: Session, now: Date, phase: Phase, simSeconds: number): InteractionWire {
    // Conversations mostly stay on topic.
    if (!this.rnd.chance(0.65)) s.intent = this.rnd.weighted(s.assistant.intents);
    const profile = INTENTS[s.intent]!;
    const tools = this.rnd.pick(profile.chains).map((make) => make(this.rnd));
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
      user_input: this.rnd.pick(profile.inputs)(this.rnd),
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
      ...(this.rnd.chance(0.08) ? { feedback_score: this.rnd.int(1, 5) } : {}),
      metadata: { demo: true, channel: s.channel },
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
