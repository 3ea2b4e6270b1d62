/**
 * The rule channels against a real HTTP sink on loopback: the generic webhook's HMAC header,
 * Slack's text and blocks, Feishu's and DingTalk's signing schemes recomputed from what
 * arrived, WeCom's markdown, email over a real SMTP server, and robot error codes recorded as
 * failed deliveries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { records, startSmtpSink, waitFor } from './support.js';
import { startNotificationSink, startRuleServer, type NotificationSink } from './rule-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sink(answer?: Parameters<typeof startNotificationSink>[0]): Promise<NotificationSink> {
  const s = await startNotificationSink(answer);
  cleanups.push(() => s.close());
  return s;
}

const hmac = (key: string, data: string) => createHmac('sha256', key).update(data, 'utf8');

describe('rule channels', () => {
  it('sends each channel its payload, signed by its own scheme, and records every outcome', async () => {
    const s = await sink();
    const h = await startRuleServer(cleanups);
    const rule = await h.createRule({
      name: 'checkout failures',
      metric: 'consecutive_errors',
      critical: 1,
      scope: { intent: 'checkout' },
      channels: [
        { type: 'webhook', url: `${s.base}/webhook`, secret: 'hook-secret' },
        { type: 'slack', url: `${s.base}/slack/T000/B000/XXXX` },
        { type: 'feishu', url: `${s.base}/feishu/open-apis/bot/v2/hook/abc`, secret: 'feishu-secret' },
        { type: 'dingtalk', url: `${s.base}/dingtalk/robot/send?access_token=tok`, secret: 'SECding' },
        { type: 'wecom', url: `${s.base}/wecom/cgi-bin/webhook/send?key=k1` },
      ],
    });
    expect((rule.channels as { hasSecret: boolean }[]).map((c) => c.hasSecret)).toEqual([true, false, true, true, false]);
    await h.ingest(records(2, false, { intent: 'checkout' }));
    await waitFor(async () => s.requests.length === 5, 'five channel requests');

    const [hook] = s.on('/webhook');
    const ts = String(hook!.headers['x-ai-monitor-timestamp']);
    expect(hook!.headers['x-ai-monitor-signature']).toBe(`sha256=${hmac('hook-secret', `${ts}.${hook!.raw}`).digest('hex')}`);
    expect(Number(ts)).toBe(Math.floor(h.clock.now / 1000));
    expect(hook!.body).toMatchObject({ event: 'firing', kind: 'rule', status: 'open', rule: { ruleId: rule.id, severity: 'critical', scope: { intent: 'checkout' } } });
    expect(String(hook!.body.text)).toContain('FIRING critical: checkout failures');

    const [slack] = s.on('/slack/T000/B000/XXXX');
    expect(String(slack!.body.text)).toContain('checkout failures');
    expect((slack!.body.blocks as { type: string }[])[0]!.type).toBe('section');

    const [feishu] = s.on('/feishu/open-apis/bot/v2/hook/abc');
    expect(feishu!.body.msg_type).toBe('text');
    expect(String((feishu!.body.content as { text: string }).text)).toContain('Scope:     intent=checkout');
    const fts = String(feishu!.body.timestamp);
    expect(feishu!.body.sign).toBe(hmac(`${fts}\n${'feishu-secret'}`, '').digest('base64'));

    const [ding] = s.on('/dingtalk/robot/send');
    expect(ding!.query.get('access_token')).toBe('tok');
    const dts = ding!.query.get('timestamp')!;
    expect(Number(dts)).toBe(h.clock.now);
    // URLSearchParams decodes the URL-encoded signature.
    expect(ding!.query.get('sign')).toBe(hmac('SECding', `${dts}\nSECding`).digest('base64'));
    expect(ding!.body).toMatchObject({ msgtype: 'text', text: { content: expect.stringContaining('checkout failures') } });

    const [wecom] = s.on('/wecom/cgi-bin/webhook/send');
    expect(wecom!.query.get('key')).toBe('k1');
    expect(wecom!.body).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('checkout failures') } });

    const [alert] = await waitFor(async () => {
      const list = await h.alerts();
      return list[0]!.delivery.length === 5 ? list : null;
    }, 'five recorded deliveries');
    expect(alert!.delivery.map((d) => d.channel).sort()).toEqual(['dingtalk', 'feishu', 'slack', 'webhook', 'wecom']);
    expect(alert!.delivery.every((d) => d.ok && d.event === 'firing' && d.attempts === 1)).toBe(true);
  });

  it('a robot answering an error code is a failed delivery naming it; a 503 is retried', async () => {
    let calls = 0;
    const s = await sink((path) => {
      if (path === '/dingtalk') return { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' };
      if (path === '/flaky' && ++calls === 1) return { status: 503, body: 'busy' };
      return { status: 200, body: '{"code":0}' };
    });
    const h = await startRuleServer(cleanups);
    await h.createRule({
      name: 'streak', metric: 'consecutive_errors', critical: 1,
      channels: [{ type: 'dingtalk', url: `${s.base}/dingtalk`, secret: 'wrong' }, { type: 'webhook', url: `${s.base}/flaky` }],
    });
    await h.ingest(records(2, false));
    const [alert] = await waitFor(async () => {
      const list = await h.alerts();
      return list[0]!.delivery.length === 2 ? list : null;
    }, 'two recorded deliveries');
    const ding = alert!.delivery.find((d) => d.channel === 'dingtalk')!;
    expect(ding).toMatchObject({ ok: false, attempts: 1 });
    expect(ding.detail).toContain('dingtalk answered error 310000: sign not match');
    expect(alert!.delivery.find((d) => d.channel === 'webhook')).toMatchObject({ ok: true, attempts: 2 });
  });

  it('emails a rule alert and its resolution through a real SMTP server', async () => {
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    const h = await startRuleServer(cleanups, { env: { AI_MONITOR_SMTP_URL: smtp.url, AI_MONITOR_ALERT_EMAIL_FROM: 'monitor@example.com' } });
    await h.createRule({ name: 'mail me', metric: 'consecutive_errors', critical: 1, channels: [{ type: 'email', to: ['oncall@example.com'] }] });
    await h.ingest(records(2, false));
    await waitFor(async () => smtp.mails.length === 1, 'the firing mail');
    await h.ingest(records(1, true));
    await waitFor(async () => smtp.mails.length === 2, 'the resolve mail');
    expect(smtp.mails.map((m) => m.to)).toEqual([['oncall@example.com'], ['oncall@example.com']]);
    expect(smtp.mails[0]!.subject).toContain('FIRING critical: mail me');
    expect(smtp.mails[1]!.subject).toContain('RESOLVED: mail me');
    expect(smtp.mails[1]!.body).toContain('Peak:');
  });
});
