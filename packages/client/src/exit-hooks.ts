/**
 * One set of process hooks shared by every client of the process: flush on `beforeExit`, and a
 * best-effort flush on SIGTERM. The hooks are installed while at least one client wants them
 * and removed when the last one closes, so a closed client leaves no listener behind.
 */

export interface ExitParticipant {
  /** Records still waiting. */
  pending(): number;
  /** Records settled so far (sent + rejected + dropped), to tell progress from a dead server. */
  settled(): number;
  /** Sends what is buffered now; resolves when done, given up, or after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  /** Longest time a SIGTERM flush may take. */
  readonly exitFlushTimeoutMs: number;
}

const participants = new Set<ExitParticipant>();
let installed = false;
let lastBeforeExitMark = -1;

export function registerExitParticipant(p: ExitParticipant): void {
  participants.add(p);
  if (!installed) {
    installed = true;
    lastBeforeExitMark = -1;
    process.on('beforeExit', onBeforeExit);
    process.on('SIGTERM', onSigterm);
  }
}

export function unregisterExitParticipant(p: ExitParticipant): void {
  participants.delete(p);
  if (participants.size === 0) uninstall();
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.removeListener('beforeExit', onBeforeExit);
  process.removeListener('SIGTERM', onSigterm);
}

/**
 * The event loop is empty: deliver what is left. The request keeps the loop alive; when it is
 * done `beforeExit` fires again. A new attempt is made only if the previous one made progress,
 * so an unreachable server costs one attempt and the process then exits.
 */
function onBeforeExit(): void {
  try {
    let pending = 0;
    let mark = 0;
    for (const p of participants) {
      pending += p.pending();
      mark += p.settled();
    }
    if (pending === 0 || mark === lastBeforeExitMark) return;
    lastBeforeExitMark = mark;
    for (const p of participants) if (p.pending() > 0) void p.flush().catch(() => undefined);
  } catch {
    // never throw from a process hook
  }
}

/**
 * Installing a SIGTERM listener disables Node's default "terminate" action, so after the
 * flush (bounded by `exitFlushTimeoutMs`) the signal is raised again when no other listener
 * is there to handle it, and the process ends as it would have without the SDK.
 */
function onSigterm(): void {
  const list = [...participants];
  uninstall();
  const timeoutMs = Math.max(0, ...list.map((p) => p.exitFlushTimeoutMs));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs); // referenced: keeps the process alive for the flush
  });
  const flushes = Promise.all(list.map((p) => p.flush(timeoutMs).catch(() => undefined)));
  void Promise.race([flushes, deadline]).then(() => {
    if (timer) clearTimeout(timer);
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  });
}
