/** The seed WebSocket protocol: the seed's message, batches, acks and every kind of bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startServer, type RunningServer } from '../helpers/app.js';
import { SeedClient, seedRecord } from '../helpers/seed-client.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
  server.cleanup();
});

async function fetchInteraction(id: string): Promise<Record<string, unknown> | null> {
  const r = await gql<{ interaction: Record<string, unknown> | null }>(
    server,
    `query ($id: ID!) { interaction(id: $id) { id sessionId timestamp userInput intent responseTimeMs success errorType
      toolsUsed { tool params durationMs success error } } }`,
    { id },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.interaction;
}

describe('seed WebSocket protocol', () => {
  it("stores the seed client's message byte for byte and acknowledges it after commit", async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    // Exactly the text the seed's AIMonitorClient.log_interaction sends (Python json.dumps spacing).
    const text =
      '{"type": "metrics", "data": {"session_id": "20260217_143000", "timestamp": "2026-02-17T14:30:00.123456", ' +
      '"user_input": "Summarise the quarterly report", "intent": "summarize", "tools_used": [{"tool": "read", "params": {}}], ' +
      '"response_time_ms": 1500, "success": true, "error_type": null}}';
    c.sendRaw(text);
    const ack = await c.next();
    expect(ack).toMatchObject({ type: 'ack', accepted: 1 });
    const id = (ack.ids as string[])[0]!;
    const stored = await fetchInteraction(id);
    expect(stored).toMatchObject({
      sessionId: '20260217_143000',
      // A naive timestamp is read in AI_MONITOR_NAIVE_TIMEZONE (UTC for the test servers).
      timestamp: '2026-02-17T14:30:00.123Z',
      userInput: 'Summarise the quarterly report',
      intent: 'summarize',
      toolsUsed: [{ tool: 'read', params: {}, durationMs: null, success: null, error: null }],
      responseTimeMs: 1500,
      success: true,
      errorType: null,
    });
    await c.close();
  });

  it('stores the valid records of a batch and reports the invalid one by index and field', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    const batch = [
      seedRecord({ session_id: 'batch-1', intent: 'a' }),
      seedRecord({ session_id: 'batch-1', response_time_ms: 'slow' }),
      seedRecord({ session_id: 'batch-1', intent: 'c', success: false, error_type: 'timeout' }),
    ];
    const ack = await c.request({ type: 'metrics_batch', data: batch, request_id: 'r1' });
    expect(ack.type).toBe('ack');
    expect(ack.request_id).toBe('r1');
    expect(ack.accepted).toBe(2);
    expect(ack.rejected).toEqual([{ index: 1, error: 'response_time_ms: expected number, got string' }]);
    for (const id of ack.ids as string[]) expect(await fetchInteraction(id)).not.toBeNull();
    await c.close();
  });

  it('answers bad messages with an error naming the problem and keeps the connection open', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    const cases: [unknown, RegExp][] = [
      ['{"type": "metrics", "data": {', /^malformed JSON/],
      ['[1,2,3]', /JSON object with a "type"/],
      [{ type: 'bogus', data: {} }, /unknown message type "bogus"/],
      [{ data: seedRecord() }, /unknown message type null/],
      [{ type: 'metrics', data: [seedRecord()] }, /"data" must be an interaction object/],
      [{ type: 'metrics_batch', data: seedRecord() }, /"data" must be an array/],
      [{ type: 'metrics', data: seedRecord({ success: 'yes' }) }, /^success: expected boolean, got string$/],
      [{ type: 'metrics', data: seedRecord({ session_id: undefined }) }, /^session_id: is required$/],
      [{ type: 'metrics', data: seedRecord({ response_time_ms: -5 }) }, /^response_time_ms: must be 0 or more$/],
      [{ type: 'metrics', data: seedRecord({ timestamp: 'yesterday' }) }, /^timestamp: not a valid ISO-8601/],
      [{ type: 'metrics', data: seedRecord({ feedback_score: 7 }) }, /^feedback_score: must be between 1 and 5 \(the feedback scale\)$/],
      [{ type: 'metrics', data: seedRecord({ feedback_score: 0 }) }, /^feedback_score: must be between 1 and 5/],
      [{ type: 'metrics', data: seedRecord({ tools_used: [{ params: {} }] }) }, /^tools_used\[0\]\.tool: is required$/],
      [{ type: 'metrics', data: seedRecord({ tools_used: [{ tool: 'x', params: [1] }] }) }, /^tools_used\[0\]\.params: expected record, got array$/],
      [{ type: 'metrics_batch', data: [{}, 5] }, /all 2 records were rejected/],
    ];
    for (const [msg, pattern] of cases) {
      const reply = await c.request(msg);
      expect(reply.type, JSON.stringify(msg)).toBe('error');
      expect(reply.error, JSON.stringify(msg)).toMatch(pattern);
    }
    c.sendRaw(Buffer.from([1, 2, 3]), true);
    expect((await c.next()).error).toMatch(/binary frames are not accepted/);
    // Still usable afterwards.
    const ack = await c.request({ type: 'metrics', data: seedRecord({ session_id: 'after-errors' }) });
    expect(ack.type).toBe('ack');
    expect(c.closed).toBeNull();
    await c.close();
  });

  it('refuses an oversized message with an error and keeps the connection', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    const big = seedRecord({ user_input: 'x'.repeat(1_200_000) });
    const reply = await c.request({ type: 'metrics', data: big });
    expect(reply.type).toBe('error');
    expect(reply.error).toMatch(/exceeds the limit of 1048576 bytes/);
    const ack = await c.request({ type: 'metrics', data: seedRecord({ session_id: 'after-big' }) });
    expect(ack.type).toBe('ack');
    await c.close();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });

  it('stores a repeated id once', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    const rec = seedRecord({ id: 'idem-1', session_id: 'idem-session' });
    const a = await c.request({ type: 'metrics', data: rec });
    const b = await c.request({ type: 'metrics_batch', data: [rec, rec] });
    expect(a.ids).toEqual(['idem-1']);
    expect(b.ids).toEqual(['idem-1', 'idem-1']);
    const r = await gql<{ session: { interactionCount: number } }>(server, '{ session(id: "idem-session") { interactionCount } }');
    expect(r.data!.session.interactionCount).toBe(1);
    const list = await gql<{ interactions: { edges: unknown[] } }>(
      server,
      '{ interactions(filter: { sessionId: "idem-session" }) { edges { node { id } } } }',
    );
    expect(list.data!.interactions.edges).toHaveLength(1);
    await c.close();
  });

  it('truncates user_input to 200 characters as the seed does', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    const ack = await c.request({ type: 'metrics', data: seedRecord({ user_input: 'y'.repeat(500) }) });
    const stored = await fetchInteraction((ack.ids as string[])[0]!);
    expect((stored!.userInput as string).length).toBe(200);
    await c.close();
  });

  it('answers ping and accepts an auth message when no tokens are configured', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/any/path`);
    expect(await c.request({ type: 'ping', request_id: 7 })).toEqual({ type: 'pong', request_id: 7 });
    expect(await c.request({ type: 'auth', token: 'anything' })).toEqual({ type: 'auth_ok' });
    await c.close();
  });

  it('works for a client that never reads replies', async () => {
    const c = await SeedClient.connect(`${server.wsUrl}/`);
    // Stop reading from the socket entirely, as a client that ignores acks.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 500; i++) c.send({ type: 'metrics', data: seedRecord({ session_id: 'never-reads', id: `nr-${i}` }) });
    await expect
      .poll(async () => (await gql<{ session: { interactionCount: number } | null }>(server, '{ session(id: "never-reads") { interactionCount } }')).data!.session?.interactionCount ?? 0, { timeout: 20_000 })
      .toBe(500);
    c.ws.terminate();
  });
});
