/**
 * De-duplication of alert decisions across replicas.
 *
 * Every replica runs the rule engine over the same stream: the cluster `interactions` topic
 * carries each committed batch to every replica, in one order (Redis pub/sub delivers a
 * channel's messages to all subscribers in publish order). So the window counts and the
 * consecutive-error streak are replicated, not shared, and every replica reaches the same
 * conclusions at about the same time. Only the side effects must happen once: raising an
 * alert (which also starts its cooldown) and resolving it. The engine asks an
 * `AlertCoordinator` before each; the local implementation below serves one process, a
 * Redis implementation (`SET key NX PX ttl`) serves N replicas.
 */
import type { AlertKind } from '@ai-monitor/schema';

export interface AlertCoordinator {
  /**
   * Claims the right to raise `kind` at `now`. True for exactly one caller (across all
   * replicas) per cooldown: false while an alert of this kind was raised less than
   * `cooldownMs` ago. A true answer starts the cooldown.
   */
  tryAcquire(kind: AlertKind | `rule:${string}`, cooldownMs: number, now: number): Promise<boolean>;
  /**
   * Claims a one-off action named `key` (e.g. resolving one alert). True for exactly one
   * caller; the claim is remembered for `ttlMs`.
   */
  tryClaim(key: string, ttlMs: number): Promise<boolean>;
  /** Tells the coordinator about a raise it did not grant (read from the store at start). */
  restore(kind: AlertKind, raisedAt: number): Promise<void>;
  close(): Promise<void>;
}

/** One process: the cooldowns and claims live in memory. */
export class LocalAlertCoordinator implements AlertCoordinator {
  private readonly lastRaised = new Map<string, number>();
  private readonly claims = new Map<string, number>();

  async tryAcquire(kind: AlertKind | `rule:${string}`, cooldownMs: number, now: number): Promise<boolean> {
    const last = this.lastRaised.get(kind);
    if (last !== undefined && now - last < cooldownMs) return false;
    this.lastRaised.set(kind, now);
    return true;
  }

  async tryClaim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.claims) if (until <= now) this.claims.delete(k);
    if (this.claims.has(key)) return false;
    this.claims.set(key, now + ttlMs);
    return true;
  }

  async restore(kind: AlertKind, raisedAt: number): Promise<void> {
    const last = this.lastRaised.get(kind);
    if (last === undefined || raisedAt > last) this.lastRaised.set(kind, raisedAt);
  }

  async close(): Promise<void> {
    this.lastRaised.clear();
    this.claims.clear();
  }
}
