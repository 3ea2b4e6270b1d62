/**
 * Shared, reactive state of the link to the server. Components read it; only the connection
 * module writes it.
 */
import { readToken } from '$lib/token';

export type LinkStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export const link = $state({
  status: 'connecting' as LinkStatus,
  /** Failed attempts since the last successful connection. */
  retries: 0,
  /** Why the last connection ended, for the tooltip. */
  detail: '',
  /** Bumped after every re-connection and token change: history must be queried again. */
  dataEpoch: 0,
  /** Bumped when the socket client is rebuilt: subscriptions must be started again. */
  clientEpoch: 0,
});

export const auth = $state({
  token: readToken(),
  /** The server refused us; the token prompt shows while this is set. */
  required: false,
  reason: '',
  /** Which path refused us: a successful socket connection clears only its own refusal. */
  source: 'http' as 'http' | 'ws',
  /** The user closed the prompt: do not push it again until they ask or a token is saved. */
  dismissed: false,
});

/**
 * Difference between the server's clock and ours, learnt from metric snapshots (ms). Not
 * reactive on purpose: it changes with every tick and nothing should re-run because of it.
 */
const clock = { offsetMs: 0 };

export function serverNow(): number {
  return Date.now() + clock.offsetMs;
}

/** Records the server time a response carried, ignoring transport delay (it only makes our estimate lag). */
export function learnServerTime(serverIso: string | null | undefined): void {
  if (!serverIso) return;
  const t = Date.parse(serverIso);
  if (Number.isFinite(t)) clock.offsetMs = t - Date.now();
}
