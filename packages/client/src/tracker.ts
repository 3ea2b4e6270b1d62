import { performance } from 'node:perf_hooks';
import { errorTypeOf } from './mapping.js';
import type { InteractionRecord, ToolUse } from './types.js';

/** Outcome of a tool call given to `logToolUse`. */
export interface ToolUseResult {
  durationMs?: number | null;
  success?: boolean | null;
  error?: string | Error | null;
}

/** Fields `track` and `InteractionTracker.set` may set besides those it measures itself. */
export type TrackFields = Partial<Omit<InteractionRecord, 'userInput' | 'responseTimeMs' | 'success' | 'toolsUsed'>>;

/** Options of `track`: any record field it does not measure itself (`sessionId`, `intent`, `model`, …). */
export type TrackOptions = TrackFields;

/**
 * Handed to the callback of `AIMonitorClient.track`: records what the assistant understood and
 * did. Every method is safe to call at any time and never throws.
 */
export class InteractionTracker {
  readonly userInput: string;
  /** When the interaction started. */
  readonly startedAt: Date;
  private readonly t0 = performance.now();
  private readonly fields: TrackFields;
  private readonly tools: ToolUse[] = [];
  private failure: { errorType: string | null } | undefined;

  /** @internal */
  constructor(userInput: string, options: TrackOptions = {}) {
    this.userInput = userInput;
    this.startedAt = new Date();
    this.fields = { ...options };
  }

  /** Milliseconds since the interaction started. */
  get elapsedMs(): number {
    return performance.now() - this.t0;
  }

  /** The intent the assistant understood. */
  logIntent(intent: string): void {
    this.fields.intent = intent;
  }

  /** A tool call the assistant made. `result.error` may be an `Error` (reported by its message). */
  logToolUse(tool: string, params: Record<string, unknown> = {}, result: ToolUseResult = {}): void {
    try {
      const use: ToolUse = { tool, params };
      if (result.durationMs !== undefined) use.durationMs = result.durationMs;
      if (result.success !== undefined) use.success = result.success;
      else if (result.error !== undefined && result.error !== null) use.success = false;
      if (result.error !== undefined) use.error = result.error;
      this.tools.push(use);
    } catch {
      // never throw into the assistant's code
    }
  }

  /**
   * Starts timing a tool call; call the returned function when it ends.
   * `const done = t.startTool('search', { q }); … done({ success: true });`
   */
  startTool(tool: string, params: Record<string, unknown> = {}): (result?: Omit<ToolUseResult, 'durationMs'>) => void {
    const start = performance.now();
    let ended = false;
    return (result = {}) => {
      if (ended) return;
      ended = true;
      this.logToolUse(tool, params, { success: true, ...result, durationMs: round(performance.now() - start) });
    };
  }

  /**
   * Runs a tool call, timing it and recording its success or its error; the tool's own error
   * is re-thrown unchanged.
   */
  async useTool<T>(tool: string, params: Record<string, unknown>, fn: () => T | Promise<T>): Promise<T> {
    const done = this.startTool(tool, params);
    try {
      const value = await fn();
      done({ success: true });
      return value;
    } catch (err) {
      done({ success: false, error: messageOf(err) });
      throw err;
    }
  }

  /** Sets other fields of the record: `model`, `inputTokens`, `metadata`, `sessionId`, … */
  set(fields: TrackFields): void {
    try {
      Object.assign(this.fields, fields);
    } catch {
      // never throw
    }
  }

  /** Marks the interaction failed without throwing (for errors the assistant handled itself). */
  fail(errorType: string | null = 'Error'): void {
    this.failure = { errorType };
  }

  /** @internal The record of the finished interaction. */
  finish(thrown: { error: unknown } | undefined): InteractionRecord {
    const failed = thrown !== undefined || this.failure !== undefined;
    const errorType = thrown !== undefined ? errorTypeOf(thrown.error) : (this.failure?.errorType ?? null);
    return {
      ...this.fields,
      timestamp: this.fields.timestamp ?? this.startedAt,
      userInput: this.userInput,
      intent: this.fields.intent ?? 'unknown',
      toolsUsed: [...this.tools],
      responseTimeMs: round(this.elapsedMs),
      success: !failed,
      errorType: failed ? errorType : (this.fields.errorType ?? null),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  try {
    return String(err);
  } catch {
    return 'error';
  }
}
