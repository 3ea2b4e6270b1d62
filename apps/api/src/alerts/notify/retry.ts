/**
 * Attempts with a per-attempt timeout and exponential back-off, reported as a delivery
 * outcome instead of thrown: a notification that fails is recorded, never propagated.
 */
export interface RetryPolicy {
  attempts: number;
  /** Wait before the second attempt; doubled before each further one. */
  backoffMs: number;
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 500, timeoutMs: 5000 };

/** A failure the next attempt would not fix (e.g. HTTP 400): stop retrying. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

export interface AttemptResult {
  ok: boolean;
  attempts: number;
  /** The last success detail or the last error. */
  detail: string;
}

/**
 * Calls `attempt` until it resolves, at most `policy.attempts` times. Each call gets a signal
 * that aborts after `policy.timeoutMs` or when `shutdown` aborts (which also ends the waits).
 */
export async function withRetries(
  attempt: (signal: AbortSignal) => Promise<string>,
  policy: RetryPolicy,
  shutdown: AbortSignal,
): Promise<AttemptResult> {
  let last = 'not attempted';
  for (let n = 1; n <= policy.attempts; n++) {
    if (shutdown.aborted) return { ok: false, attempts: n - 1, detail: `${last}; not retried: the server is shutting down` };
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    try {
      return { ok: true, attempts: n, detail: await attempt(AbortSignal.any([timeout, shutdown])) };
    } catch (err) {
      if (shutdown.aborted && !timeout.aborted) return { ok: false, attempts: n, detail: 'interrupted: the server is shutting down' };
      last = timeout.aborted ? `timed out after ${policy.timeoutMs / 1000} s` : (err as Error).message;
      if (err instanceof PermanentError) return { ok: false, attempts: n, detail: last };
    }
    if (n < policy.attempts) await sleep(policy.backoffMs * 2 ** (n - 1), shutdown);
  }
  return { ok: false, attempts: policy.attempts, detail: last };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
