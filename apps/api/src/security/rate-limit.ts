/**
 * Per-client token bucket, one rule for every transport: each HTTP request, each seed
 * WebSocket message and each graphql-ws operation takes one token from the bucket of its
 * client (the token's id when one is presented, the IP address otherwise). A bucket holds
 * `burst` tokens and refills at `perSecond`. Off when perSecond is 0.
 */
export interface RateLimitOptions {
  /** Sustained requests per second per client; 0 turns limiting off. */
  perSecond: number;
  /** Requests a client may make at once after being idle. */
  burst: number;
  /** Most clients tracked; idle (full) buckets are forgotten first when it is reached. */
  maxClients?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number; message: string };

interface Bucket {
  tokens: number;
  at: number;
}

const OK: RateDecision = Object.freeze({ ok: true });

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.maxClients = opts.maxClients ?? 100_000;
  }

  get enabled(): boolean {
    return this.opts.perSecond > 0;
  }

  /** Takes one token for `key`; `now` in milliseconds from a monotonic clock. */
  take(key: string, now: number = performance.now()): RateDecision {
    if (!this.enabled) return OK;
    const { perSecond, burst } = this.opts;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxClients) this.evict(now);
      bucket = { tokens: burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return OK;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    return {
      ok: false,
      retryAfterSeconds,
      message: `rate limit exceeded: at most ${perSecond} requests per second (burst ${burst}) per client; retry in ${retryAfterSeconds} s`,
    };
  }

  /** Forgets buckets that have refilled (they behave like new ones); all of them if none has. */
  private evict(now: number): void {
    const { perSecond, burst } = this.opts;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxClients) this.buckets.clear();
  }
}
