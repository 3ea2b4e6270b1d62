/**
 * Slow subscribers cannot grow the server's memory without bound, nor hold up others: a
 * graphql-ws client and an SSE client that never read while 20,000 interactions (about 2 KB
 * each) are recorded; a healthy subscriber receives every one, and the server's RSS grows by
 * less than 100 MB (with no slow subscriber it grows by about 60-75 MB: heap and SQLite cache).
 */
import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import WebSocket from 'ws';
import { graphqlWs, http, onCleanup, openSeed, serveProcess, storedCount, wsOnce, wsSubscribe } from './helpers.js';

const WARM_UP = 10_000;
const TOTAL = 20_000;
const BATCH = 500;
const MAX_GROWTH = 100 * 1024 * 1024;

async function metricValue(base: string, name: string): Promise<number> {
  const text = (await http(`${base}/metrics`)).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A graphql-ws subscriber that stops reading its socket once subscribed. */
async function stalledWsSubscriber(wsUrl: string): Promise<WebSocket> {
  const ws = new WebSocket(`${wsUrl}/graphql`, ['graphql-transport-ws']);
  onCleanup(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init' }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  const query = 'subscription { interactionRecorded { id sessionId userInput intent toolsUsed { tool params } metadata } }';
  ws.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query } }));
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  return ws;
}

/** An SSE subscriber (GraphQL over HTTP, text/event-stream) that stops reading after the first bytes. */
function stalledSseSubscriber(base: string): Promise<void> {
  const query = 'subscription { interactionRecorded { id userInput metadata } }';
  return new Promise((resolve, reject) => {
    const req = request(`${base}/graphql?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' },
      agent: false,
    });
    req.on('response', (res) => {
      expect(res.statusCode).toBe(200);
      res.pause();
      resolve();
    });
    req.on('error', reject);
    onCleanup(() => void req.destroy());
    req.end();
  });
}

describe('slow subscribers', () => {
  it('keep memory bounded and do not hold up a healthy subscriber', async () => {
    // A memory-limited server, as deployed under a systemd or container limit: garbage is
    // collected rather than left lying, so what grows is what is held (and a leak crashes it).
    const s = await serveProcess({ env: { NODE_OPTIONS: '--max-old-space-size=160' } });
    const { client } = graphqlWs(s.wsUrl);
    const healthy = wsSubscribe(client, 'subscription { interactionRecorded { id } }');
    // A round trip on the same socket: the subscription is registered by the time it answers.
    await wsOnce(client, '{ metrics { count } }');
    await stalledWsSubscriber(s.wsUrl);
    await stalledSseSubscriber(s.url);

    const seed = await openSeed(s.wsUrl);
    const padding = 'x'.repeat(1500);
    const send = async (from: number): Promise<void> => {
      const data = Array.from({ length: BATCH }, (_, i) => ({
        session_id: `slow-${(from + i) % 50}`,
        user_input: `question ${from + i} ${'q'.repeat(180)}`,
        intent: 'search',
        tools_used: [{ tool: 'web', params: { q: padding.slice(0, 100) } }],
        response_time_ms: 100,
        success: true,
        metadata: { padding },
      }));
      seed.send({ type: 'metrics_batch', data, request_id: from });
      const ack = await seed.next(30_000);
      expect(ack).toMatchObject({ type: 'ack', accepted: BATCH });
    };
    // Warm-up, so the baseline includes code paths, the heap's working size and most of the SQLite page cache.
    for (let sent = 0; sent < WARM_UP; sent += BATCH) {
      await send(sent);
      await healthy.until(() => healthy.results.length === sent + BATCH, 30_000);
    }
    const before = await metricValue(s.url, 'ai_monitor_process_resident_memory_bytes');

    for (let sent = WARM_UP; sent < WARM_UP + TOTAL; sent += BATCH) {
      await send(sent);
      // Paced by the healthy subscriber (behaviour, not time): it must keep up with every event.
      await healthy.until(() => healthy.results.length === sent + BATCH, 30_000);
    }
    const after = await metricValue(s.url, 'ai_monitor_process_resident_memory_bytes');
    const ids = new Set(healthy.results.map((r) => (r.data?.interactionRecorded as { id: string }).id));
    expect(ids.size).toBe(WARM_UP + TOTAL);
    process.stdout.write(`RSS before ${(before / 2 ** 20).toFixed(1)} MiB, after ${(after / 2 ** 20).toFixed(1)} MiB\n`);
    expect(after - before).toBeLessThan(MAX_GROWTH);
    expect((await http(`${s.url}/health`)).status).toBe(200);
    expect(await storedCount(s.url)).toBe(WARM_UP + TOTAL);
    // The SSE subscriber's queue overflowed: its oldest events were dropped and counted.
    expect(await metricValue(s.url, 'ai_monitor_subscriber_events_dropped_total')).toBeGreaterThan(0);
  }, 180_000);
});
