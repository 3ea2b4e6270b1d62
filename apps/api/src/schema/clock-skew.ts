/** `clockSkew`: records that arrived with timestamps ahead of the server clock (see ingest/clock-skew). */
import { builder } from './builder.js';
import type { ClockSkewClient, ClockSkewSummary } from '../ingest/clock-skew.js';

const ClockSkewClientRef = builder.objectRef<ClockSkewClient>('ClockSkewClient').implement({
  description: 'One sender whose timestamps were ahead of the server clock beyond the tolerance.',
  fields: (t) => ({
    client: t.exposeString('client', { description: '`assistant NAME`, or `address IP` for records without an assistant.' }),
    assistant: t.exposeString('assistant', { nullable: true }),
    address: t.exposeString('address', { nullable: true, description: 'Network address of the latest such record.' }),
    records: t.exposeInt('records', { description: 'Records stored at their receive time instead of their timestamp.' }),
    naiveRecords: t.exposeInt('naiveRecords', { description: 'Of them, records whose timestamp had no zone.' }),
    likelyOffsetMs: t.exposeFloat('likelyOffsetMs', { description: 'The latest skew rounded to the nearest 15 minutes.' }),
    likelyOffset: t.exposeString('likelyOffset', { description: 'The same for people: `+8 h`, `+5 h 30 min`.' }),
    lastSkewMs: t.exposeFloat('lastSkewMs', { description: 'Sent timestamp minus receive time of the latest such record.' }),
    firstSeen: t.field({ type: 'DateTime', resolve: (c) => c.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', resolve: (c) => c.lastSeen }),
    suggestedTimezone: t.exposeString('suggestedTimezone', {
      nullable: true,
      description: 'For timestamps without a zone: a zone for AI_MONITOR_NAIVE_TIMEZONE that would read them right.',
    }),
  }),
});

const ClockSkewSummaryRef = builder.objectRef<ClockSkewSummary>('ClockSkewSummary').implement({
  description: 'Records whose timestamps were ahead of the receive time, since this server started.',
  fields: (t) => ({
    records: t.exposeInt('records'),
    toleranceMs: t.exposeInt('toleranceMs', { description: 'How far ahead a timestamp may be (AI_MONITOR_CLOCK_SKEW_TOLERANCE_MS).' }),
    naiveTimezone: t.exposeString('naiveTimezone', { description: 'Zone of timestamps without a zone (AI_MONITOR_NAIVE_TIMEZONE).' }),
    clients: t.field({ type: [ClockSkewClientRef], description: 'Most recently seen first.', resolve: (s) => s.clients }),
  }),
});

builder.queryFields((t) => ({
  clockSkew: t.field({
    type: ClockSkewSummaryRef,
    description: 'Records that arrived with timestamps ahead of the server clock; they are counted at their receive time.',
    resolve: (_root, _args, ctx) => ctx.services.clockSkew.summary(),
  }),
}));
