/** Interactions: the record type, recording mutations, the explorer query and the live feed. */
import { Repeater } from 'graphql-yoga';
import { interactionFields, serverFields, toolUseFields, type GraphQLMapping, type FieldSpec } from '@ai-monitor/schema';
import { builder } from './builder.js';
import type { EqualityFilter, Interaction, InteractionFilter, ToolUse } from '../model/interaction.js';
import { graphqlAdapter } from '../ingest/adapters/index.js';
import { BatchTooLargeError, type IngestOutcome } from '../ingest/service.js';
import type { Context } from './context.js';
import { resolvePage } from './pagination.js';
import { userInputError } from './errors.js';
import { FILTER_COLUMNS } from '../store/core/columns.js';

// The record's GraphQL types are generated from the canonical record's field tables.
type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type ScalarName = Exclude<GraphQLMapping['output'] | NonNullable<GraphQLMapping['input']>, 'ToolUse' | 'ToolUseInput'>;
const mappings = (fields: Record<string, FieldSpec>): [string, GraphQLMapping][] => Object.entries(fields).map(([k, f]) => [k, f.graphql]);

export const ToolUseRef = builder.objectRef<ToolUse>('ToolUse');
const ToolUseInput = builder.inputRef<Record<string, {} | null | undefined>>('ToolUseInput');

/** Output fields, all nullable as before; a list of tool calls resolves to `ToolUse` objects. */
function outputFields<P extends object>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>,
  fields: [string, GraphQLMapping][],
): Record<string, PothosSchemaTypes.FieldRef<Types>> {
  return Object.fromEntries(
    fields.map(([name, g]) => [
      name,
      t.field({
        type: g.output === 'ToolUse' ? [ToolUseRef] : (g.output as ScalarName),
        nullable: true,
        ...(g.outputDescription ? { description: g.outputDescription } : {}),
        resolve: (parent) => (parent as Record<string, unknown>)[name] as never,
      }),
    ]),
  );
}

/** Input fields; fields the server sets (no input type) are left out. */
function inputFields(
  t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>,
  fields: [string, GraphQLMapping][],
): Record<string, PothosSchemaTypes.InputFieldRef<Types, {} | null | undefined>> {
  return Object.fromEntries(
    fields.flatMap(([name, g]) => {
      if (g.input === null) return [];
      const description = g.inputDescription ? { description: g.inputDescription } : {};
      const field =
        g.input === 'ToolUseInput'
          ? t.field({ type: [ToolUseInput], required: g.required, ...description })
          : t.field({ type: g.input as ScalarName, required: g.required, ...description });
      return [[name, field]];
    }),
  );
}

ToolUseRef.implement({
  description: 'One tool call made while handling an interaction.',
  fields: (t) => outputFields(t, mappings(toolUseFields)),
});

export const InteractionRef = builder.objectRef<Interaction>('Interaction').implement({
  description: 'One interaction an assistant handled.',
  fields: (t) => outputFields(t, [...mappings(interactionFields), ...Object.entries(serverFields)]),
});

ToolUseInput.implement({ fields: (t) => inputFields(t, mappings(toolUseFields)) });

export const InteractionInput = builder.inputType('InteractionInput', {
  description: 'An interaction to record; the same fields as the seed protocol, in camelCase.',
  fields: (t) => inputFields(t, mappings(interactionFields)),
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
    return await ctx.services.ingest.ingest(inputs, graphqlAdapter, ctx.address);
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
    // The equality filters derive from the column list: one per column marked `filter`.
    ...Object.fromEntries(
      FILTER_COLUMNS.map((c) => [c.field, c.kind === 'bool' ? t.boolean({ required: false }) : t.string({ required: false })]),
    ),
    tool: t.string({ required: false, description: 'Interactions that called this tool.' }),
    search: t.string({ required: false, description: 'Case-insensitive text in user input.' }),
  }),
});

type FilterArg = Readonly<Record<string, unknown>> | null | undefined;

export function toFilter(f: FilterArg): InteractionFilter {
  if (!f) return {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const equality = Object.fromEntries(
    FILTER_COLUMNS.map((c) => [c.field, c.kind === 'bool' ? (typeof f[c.field] === 'boolean' ? f[c.field] : undefined) : str(f[c.field])]),
  ) as EqualityFilter;
  return {
    ...equality,
    from: f.from instanceof Date ? f.from.getTime() : undefined,
    to: f.to instanceof Date ? f.to.getTime() : undefined,
    tool: str(f.tool),
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
