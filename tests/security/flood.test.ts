/**
 * Memory under attack, short form of `npm run bench -- flood`: 100 clients send maximum-size
 * frames (seed frames just under and just over the 4 MiB hard cap, graphql-ws frames just under
 * and just over 1 MiB) for a few seconds. The server answers each as documented (error replies,
 * close 1009), stays alive, and its resident memory stays under a generous bound.
 */
import { describe, expect, it } from 'vitest';
import { runFlood } from '../bench/flood.mjs';
import { expectServing, serveProcess } from './helpers.js';

const MAX_RSS = 1024 * 1024 * 1024;

describe('flood of maximum-size frames', () => {
  it('leaves the server alive with bounded memory', async () => {
    const s = await serveProcess({ env: { AI_MONITOR_LOG_LEVEL: 'warn' } });
    const r = await runFlood({ url: s.url, wsUrl: s.wsUrl, pid: s.proc.pid!, clients: 100, seconds: 4 });
    process.stdout.write(`flood: peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB (VmHWM ${(r.hwm / 2 ** 20).toFixed(0)} MiB, idle ${(r.rssBefore / 2 ** 20).toFixed(0)} MiB); ${JSON.stringify({ frames: r.frames, closes: r.closes, errorReplies: r.errorReplies })}\n`);
    // Every kind of frame was sent and answered as documented.
    for (const kind of ['seedUnderCap', 'seedOverCap', 'graphqlUnder', 'graphqlOver']) expect(r.frames[kind] ?? 0, kind).toBeGreaterThan(0);
    expect(r.errorReplies).toBeGreaterThan(0);
    expect(r.closes['1009'] ?? 0).toBeGreaterThan(0);
    expect(Math.max(r.peakRss, r.hwm)).toBeLessThan(MAX_RSS);
    await expectServing(s.url);
  }, 120_000);
});
