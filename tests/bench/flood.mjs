/**
 * Memory under attack: many clients sending maximum-size frames at once — seed frames just
 * under and just over the 4 MiB hard cap, graphql-ws frames just under and just over 1 MiB —
 * while the server's resident memory is sampled from /proc. Shared by `npm run bench -- flood`
 * and the shorter test in tests/security/flood.test.ts. Loopback only; every loop ends at the
 * deadline.
 */
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';

const MiB = 1024 * 1024;

/** VmRSS and VmHWM (peak resident size since start) of a process, in bytes. */
export async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** A seed `metrics` message of exactly `bytes` bytes (valid JSON, so only its size is wrong). */
function seedFrame(bytes) {
  const record = { session_id: 'flood', user_input: '', intent: 'flood', response_time_ms: 1, success: true };
  const base = JSON.stringify({ type: 'metrics', data: record }).length;
  return Buffer.from(JSON.stringify({ type: 'metrics', data: { ...record, user_input: 'f'.repeat(bytes - base) } }));
}

/** Where a graphql-ws frame's operation id sits: each send gets its own id (a repeated one closes with 4409). */
const ID_PLACEHOLDER = 'op-00000000';

/** A graphql-ws `subscribe` message of exactly `bytes` bytes. */
function graphqlFrame(bytes) {
  const msg = (pad) => JSON.stringify({ id: ID_PLACEHOLDER, type: 'subscribe', payload: { query: '{ metrics { count } }', variables: { pad } } });
  return Buffer.from(msg('g'.repeat(bytes - msg('').length)));
}

let operations = 0;
/** Gives the frame a fresh operation id in place; only called once the previous send has left. */
function renumber(frame) {
  const at = frame.indexOf(ID_PLACEHOLDER.slice(0, 3));
  if (at >= 0 && frame[at + 2] === 0x2d) frame.write(`op-${(operations++ % 1e8).toString().padStart(8, '0')}`, at, 'latin1');
  return frame;
}

function open(url, protocols) {
  return new Promise((resolve) => {
    // An all-zero mask: ws then sends the frame as it is instead of masking a copy, which would
    // make the load generator, not the server, the bottleneck.
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
    ws.once('open', () => resolve(ws));
    // Refused or reset while the server is loaded: the caller retries.
    ws.once('error', () => resolve(null));
    ws.once('unexpected-response', () => resolve(null));
  });
}

/**
 * One attacking client until `deadline`: sends `frame` whenever its previous one has left
 * (at most one in flight), reconnecting whenever the server closes the connection.
 */
async function attacker({ url, protocols, frame, init, deadline, stats, kind }) {
  while (performance.now() < deadline) {
    const ws = await open(url, protocols);
    if (!ws) {
      stats.refused++;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    stats.connections++;
    await new Promise((resolve) => {
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        resolve();
      };
      ws.on('message', (data) => {
        stats.replies++;
        if (String(data).includes('exceeds the limit')) stats.errorReplies++;
      });
      ws.on('close', (code) => {
        stats.closes[code] = (stats.closes[code] ?? 0) + 1;
        stop();
      });
      ws.on('error', () => {});
      if (init) ws.send(init);
      const pump = () => {
        if (performance.now() >= deadline) {
          ws.terminate();
          return stop();
        }
        if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount === 0) {
          ws.send(kind.startsWith('graphql') ? renumber(frame) : frame);
          stats.frames[kind] = (stats.frames[kind] ?? 0) + 1;
          stats.bytes += frame.length;
        }
      };
      const timer = setInterval(pump, 5);
    });
  }
}

/**
 * Floods the server at `wsUrl` (process `pid`) with `clients` connections for `seconds`:
 * 40 % seed frames just under the hard cap, 30 % just over it, 15 % graphql-ws frames just
 * under 1 MiB and 15 % just over. Samples the server's memory every 100 ms and probes /health
 * every second. Returns what was sent, how the server answered, and its peak memory.
 */
export async function runFlood({ url, wsUrl, pid, clients = 100, seconds = 30, maxPayloadBytes = MiB, hardCapFactor = 4 }) {
  const hardCap = maxPayloadBytes * hardCapFactor;
  const frames = {
    seedUnderCap: seedFrame(hardCap - 64),
    seedOverCap: seedFrame(hardCap + 1),
    graphqlUnder: graphqlFrame(maxPayloadBytes - 64),
    graphqlOver: graphqlFrame(maxPayloadBytes + 1),
  };
  const stats = { connections: 0, refused: 0, replies: 0, errorReplies: 0, bytes: 0, frames: {}, closes: {}, healthFailures: 0, healthProbes: 0 };
  const before = await memoryOf(pid);
  let peakRss = before.rss;
  const sampler = setInterval(() => {
    memoryOf(pid)
      .then((m) => (peakRss = Math.max(peakRss, m.rss)))
      .catch(() => {});
  }, 100);
  const deadline = performance.now() + seconds * 1000;
  const prober = (async () => {
    while (performance.now() < deadline) {
      stats.healthProbes++;
      const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (!ok) stats.healthFailures++;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const init = JSON.stringify({ type: 'connection_init' });
  // Kinds interleaved, so every kind is among the first clients to connect.
  const plan = (i) => {
    const share = (i % 20) / 20;
    if (share < 0.4) return { kind: 'seedUnderCap', url: `${wsUrl}/`, frame: frames.seedUnderCap };
    if (share < 0.7) return { kind: 'seedOverCap', url: `${wsUrl}/`, frame: frames.seedOverCap };
    if (share < 0.85) return { kind: 'graphqlUnder', url: `${wsUrl}/graphql`, protocols: ['graphql-transport-ws'], init, frame: frames.graphqlUnder };
    return { kind: 'graphqlOver', url: `${wsUrl}/graphql`, protocols: ['graphql-transport-ws'], init, frame: frames.graphqlOver };
  };
  // graphql-ws frames are renumbered in place, so each client has its own copy.
  const own = (p) => (p.kind.startsWith('graphql') ? { ...p, frame: Buffer.from(p.frame) } : p);
  await Promise.all(Array.from({ length: clients }, (_, i) => attacker({ ...own(plan(i)), deadline, stats })));
  await prober;
  clearInterval(sampler);
  const after = await memoryOf(pid);
  return { ...stats, rssBefore: before.rss, peakRss: Math.max(peakRss, after.rss), rssAfter: after.rss, hwm: after.hwm };
}
