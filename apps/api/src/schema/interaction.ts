/** Interactions: the record type, recording mutations, the explorer query and the live feed. */
import { Repeater } from 'graphql-yoga';
import { FEEDBACK_SCALE } from '@ai-monitor/schema';
import { builder } from './builder.js';
import type { Interaction, InteractionFilter, ToolUse } from '../model/interaction.js';
import { camelRecordToWire } from '../ingest/fields.js';
import { BatchTooLargeError, type IngestOutcome } from '../ingest/service.js';
import type { Context } from './context.js';
import { resolvePage } from './pagination.js';
import { userInputError } from './errors.js';

const FEEDBACK_DESCRIPTION = `The user's rating of the answer, from ${FEEDBACK_SCALE.min} (poor) to ${FEEDBACK_SCALE.max} (excellent); values outside the scale are refused.`;

export const ToolUseRef = builder.objectRef<ToolUse>('ToolUse').implement({
  description: 'One tool call made while handling an interaction.',
  fields: (t) => ({
    tool: t.exposeString('tool'),
    params: t.expose('params', { type: 'JSONObject' }),
    durationMs: t.exposeFloat('durationMs', { nullable: true }),
    success: t.exposeBoolean('success', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

export const InteractionRef = builder.objectRef<Interaction>('Interaction').implement({
  description: 'One interaction an assistant handled.',
  fields: (t) => ({
    id: t.exposeID('id'),
    sessionId: t.exposeString('sessionId'),
    timestamp: t.field({ type: 'DateTime', resolve: (r) => r.timestamp }),
    receivedAt: t.field({ type: 'DateTime', resolve: (r) => r.receivedAt }),
    userInput: t.exposeString('userInput'),
    intent: t.exposeString('intent'),
    toolsUsed: t.field({ type: [ToolUseRef], resolve: (r) => r.toolsUsed }),
    responseTimeMs: t.exposeFloat('responseTimeMs'),
    success: t.exposeBoolean('success'),
    errorType: t.exposeString('errorType', { nullable: true }),
    assistant: t.exposeString('assistant', { nullable: true }),
    version: t.exposeString('version', { nullable: true, description: "The assistant's release." }),
    model: t.exposeString('model', { nullable: true }),
    userId: t.exposeString('userId', { nullable: true }),
    inputTokens: t.exposeInt('inputTokens', { nullable: true }),
    outputTokens: t.exposeInt('outputTokens', { nullable: true }),
    costUsd: t.exposeFloat('costUsd', { nullable: true }),
    feedbackScore: t.exposeFloat('feedbackScore', { nullable: true, description: FEEDBACK_DESCRIPTION }),
    metadata: t.expose('metadata', { type: 'JSONObject', nullable: true }),
  }),
});

const ToolUseInput = builder.inputType('ToolUseInput', {
  fields: (t) => ({
    tool: t.string({ required: true }),
    params: t.field({ type: 'JSONObject', required: false }),
    durationMs: t.float({ required: false }),
    success: t.boolean({ required: false }),
    error: t.string({ required: false }),
  }),
});

export const InteractionInput = builder.inputType('InteractionInput', {
  description: 'An interaction to record; the same fields as the seed protocol, in camelCase.',
  fields: (t) => ({
    id: t.string({ required: false, description: 'Idempotency key: a repeated id is stored once.' }),
    sessionId: t.string({ required: true }),
    timestamp: t.string({ required: false, description: 'ISO-8601; without a zone it is read in AI_MONITOR_NAIVE_TIMEZONE (default: the server\'s zone). Defaults to receive time; a time more than the clock-skew tolerance ahead is stored at receive time.' }),
    userInput: t.string({ required: true }),
    intent: t.string({ required: true }),
    toolsUsed: t.field({ type: [ToolUseInput], required: false }),
    responseTimeMs: t.float({ required: true }),
    success: t.boolean({ required: true }),
    errorType: t.string({ required: false }),
    assistant: t.string({ required: false }),
    version: t.string({ required: false }),
    model: t.string({ required: false }),
    userId: t.string({ required: false }),
    inputTokens: t.int({ required: false }),
    outputTokens: t.int({ required: false }),
    costUsd: t.float({ required: false }),
    feedbackScore: t.float({ required: false, description: FEEDBACK_DESCRIPTION }),
    metadata: t.field({ type: 'JSONObject', required: false }),
  }),
});

interface OutcomeShape {
  index: number;
  id: string | null;
  accepted: boolean;
  duplicate: boolean;
  error: string | null;
}

const RecordOutcomeRef = builder.objectRef<OutcomeShape>('RecordOutcome').implement({
  description: 'What became of one record of a batch.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position in the batch.' }),
    id: t.exposeID('id', { nullable: true }),
    accepted: t.exposeBoolean('accepted'),
    duplicate: t.exposeBoolean('duplicate', { description: 'The id was already stored; nothing changed.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it was rejected, naming the field.' }),
  }),
});

interface BatchShape {
  acceptedCount: number;
  rejectedCount: number;
  results: OutcomeShape[];
}

const BatchResultRef = builder.objectRef<BatchShape>('RecordBatchResult').implement({
  fields: (t) => ({
    acceptedCount: t.exposeInt('acceptedCount'),
    rejectedCount: t.exposeInt('rejectedCount'),
    results: t.field({ type: [RecordOutcomeRef], resolve: (b) => b.results }),
  }),
});

function toBatchResult(outcome: IngestOutcome): BatchShape {
  const results: OutcomeShape[] = [
    ...outcome.accepted.map((a) => ({ index: a.index, id: a.id, accepted: true, duplicate: a.duplicate, error: null })),
    ...outcome.rejected.map((r) => ({ index: r.index, id: null, accepted: false, duplicate: false, error: r.error })),
  ].sort((a, b) => a.index - b.index);
  return { acceptedCount: outcome.accepted.length, rejectedCount: outcome.rejected.length, results };
}

async function ingest(ctx: Context, inputs: Record<string, unknown>[]): Promise<IngestOutcome> {
  try {
    return await ctx.services.ingest.ingest(inputs.map(camelRecordToWire), 'graphql', ctx.address);
  } catch (err) {
    if (err instanceof BatchTooLargeError) throw userInputError(err.message);
    throw err;
  }
}

builder.mutationFields((t) => ({
  recordInteraction: t.field({
    type: InteractionRef,
    description: 'Records one interaction; answers after it is committed.',
    skipTypeScopes: true,
    authScopes: { ingest: true },
    args: { input: t.arg({ type: InteractionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const outcome = await ingest(ctx, [input as Record<string, unknown>]);
      const rejected = outcome.rejected[0];
      if (rejected) throw userInputError(`input.${rejected.error}`);
      const accepted = outcome.accepted[0]!;
      if (!accepted.duplicate) return accepted.record;
      return (await ctx.services.store.getInteraction(accepted.id)) ?? accepted.record;
    },
  }),
  recordInteractions: t.field({
    type: BatchResultRef,
    description: 'Records many interactions in one transaction. Invalid records are reported and do not stop the others.',
    skipTypeScopes: true,
    authScopes: { ingest: true },
    args: { inputs: t.arg({ type: [InteractionInput], required: true }) },
    resolve: async (_root, { inputs }, ctx) => toBatchResult(await ingest(ctx, inputs as Record<string, unknown>[])),
  }),
}));

export const InteractionFilterInput = builder.inputType('InteractionFilter', {
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: false }),
    to: t.field({ type: 'DateTime', required: false }),
    sessionId: t.string({ required: false }),
    intent: t.string({ required: false }),
    tool: t.string({ required: false, description: 'Interactions that called this tool.' }),
    success: t.boolean({ required: false }),
    errorType: t.string({ required: false }),
    assistant: t.string({ required: false }),
    search: t.string({ required: false, description: 'Case-insensitive text in user input.' }),
  }),
});

type FilterArg = { [K in keyof InteractionFilter]?: unknown } | null | undefined;

export function toFilter(f: FilterArg): InteractionFilter {
  if (!f) return {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  return {
    from: f.from instanceof Date ? f.from.getTime() : undefined,
    to: f.to instanceof Date ? f.to.getTime() : undefined,
    sessionId: str(f.sessionId),
    intent: str(f.intent),
    tool: str(f.tool),
    success: typeof f.success === 'boolean' ? f.success : undefined,
    errorType: str(f.errorType),
    assistant: str(f.assistant),
    search: str(f.search),
  };
}

builder.queryFields((t) => ({
  interaction: t.field({
    type: InteractionRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.store.getInteraction(String(id)),
  }),
  interactions: t.connection({
    type: InteractionRef,
    description: 'Interactions, newest first, with filters and cursor pagination (`first`, `after`).',
    args: { filter: t.arg({ type: InteractionFilterInput, required: false }) },
    resolve: (_root, args, ctx) => resolvePage('interactions', args, (page) => ctx.services.store.listInteractions(toFilter(args.filter), page)),
  }),
}));

builder.subscriptionFields((t) => ({
  interactionRecorded: t.field({
    type: InteractionRef,
    description: 'Every interaction as it is committed (by any replica), optionally filtered.',
    args: { filter: t.arg({ type: InteractionFilterInput, required: false }) },
    subscribe: (_root, args, ctx) => flattenFiltered(ctx, toFilter(args.filter)),
    resolve: (record: Interaction) => record,
  }),
}));

/** One event per committed transaction becomes one event per matching interaction. */
function flattenFiltered(ctx: Context, filter: InteractionFilter): AsyncIterable<Interaction> {
  return new Repeater<Interaction>(async (push, stop) => {
    const matches = ctx.services.store.matcher(filter);
    const source = ctx.services.cluster.subscribe('interactions');
    const iterator = source[Symbol.asyncIterator]();
    void stop.then(() => iterator.return?.());
    for (;;) {
      const next = await Promise.race([iterator.next(), stop.then(() => null)]);
      if (!next || next.done) break;
      for (const r of next.value) if (matches(r)) await push(r);
    }
    stop();
  });
}
