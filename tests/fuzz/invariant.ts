/**
 * The property every fuzz case must leave true, written once: the server process is alive,
 * `/health` answers 200, a control record sent on the seed socket is acknowledged and stored,
 * and every record acknowledged before is still stored.
 */
import { afterAll, beforeAll } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../helpers/server.js';
import { SeedClient, seedRecord } from '../helpers/seed-client.js';
import { gqlAs, http } from '../security/helpers.js';

const IDS_PAGE = 'query($first: Int, $after: String) { interactions(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }';

export class ServerInvariant {
  private readonly acked = new Set<string>();
  private controls = 0;

  constructor(
    readonly server: RunningServer,
    /** A token with admin scope when the server has tokens configured. */
    readonly token?: string,
    /** The CA certificate of a TLS server. */
    readonly ca?: Buffer,
  ) {}

  /** Records the fuzz cases saw acknowledged; `check` requires them stored. */
  acknowledge(ids: Iterable<string>): void {
    for (const id of ids) this.acked.add(id);
  }

  get acknowledged(): number {
    return this.acked.size;
  }

  /** Cheap, after every case: the process has not exited (a crash shows up here). */
  assertAlive(): void {
    const { proc } = this.server;
    if (proc.exitCode === null && proc.signalCode === null) return;
    throw new Error(`the server process exited (code ${proc.exitCode}, signal ${proc.signalCode}); its last output:\n${this.server.output().slice(-4000)}`);
  }

  /** The full property, after each batch of cases. */
  async check(): Promise<void> {
    this.assertAlive();
    const health = await http(`${this.server.url}/health`, { ca: this.ca });
    if (health.status !== 200) throw new Error(`/health answered ${health.status}: ${health.body}`);
    await this.controlRecord();
    const stored = await this.storedIds();
    const missing = [...this.acked].filter((id) => !stored.has(id));
    if (missing.length > 0) throw new Error(`${missing.length} acknowledged records are not stored, e.g. ${missing.slice(0, 5).join(', ')}`);
    this.assertAlive();
  }

  private async controlRecord(): Promise<void> {
    const client = await SeedClient.connect(this.server.wsUrl, { ...(this.token ? { headers: { authorization: `Bearer ${this.token}` } } : {}), ...(this.ca ? { ca: this.ca } : {}) });
    try {
      const reply = await client.request({ type: 'metrics', data: seedRecord({ session_id: `fuzz-control-${++this.controls}` }) });
      if (reply.type !== 'ack') throw new Error(`the control record was not acknowledged: ${JSON.stringify(reply)}`);
      this.acknowledge(reply.ids as string[]);
    } finally {
      await client.close();
    }
  }

  private async storedIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const r = await gqlAs(this.server.url, IDS_PAGE, this.token, { first: 500, after }, { ca: this.ca });
      const conn = r.data?.interactions as { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | undefined;
      if (!conn) throw new Error(`the interactions query failed (HTTP ${r.status}): ${JSON.stringify(r.errors)}`);
      for (const e of conn.edges) ids.add(e.node.id);
      if (!conn.pageInfo.hasNextPage) return ids;
      after = conn.pageInfo.endCursor;
    }
    return ids;
  }
}

/**
 * Starts one real server for a test file (stopped after it) and returns a getter for its
 * invariant. Fuzzed timestamps reach back to 1970, so retention keeps everything here.
 */
export function fuzzServer(opts: ServerOptions & { token?: string; ca?: Buffer } = {}): () => ServerInvariant {
  let invariant: ServerInvariant | null = null;
  beforeAll(async () => {
    const server = await startServer({
      ...opts,
      env: { AI_MONITOR_RETENTION_DAYS: '36500', AI_MONITOR_LOG_LEVEL: 'warn', ...opts.env },
    });
    invariant = new ServerInvariant(server, opts.token, opts.ca);
  });
  afterAll(async () => {
    if (!invariant) return;
    await invariant.server.stop();
    invariant.server.cleanup();
  });
  return () => {
    if (!invariant) throw new Error('the fuzz server is not running (beforeAll failed)');
    return invariant;
  };
}
