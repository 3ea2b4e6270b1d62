/** Interactions: the record type, recording mutations, the explorer query and the live feed. */
import { Repeater } from 'graphql-yoga';
import { interactionFields, serverFields, toolUseFields, type GraphQLMapping, type FieldSpec } from '@ai-monitor/schema';
import { builder } from './builder.js';
import type {
  EqualityFilter,
  FacetValue,
  Interaction,
  InteractionCount,
  InteractionFilter,
  InteractionSort,
  MatchBucket,
  ToolUse,
} from '../model/interaction.js';
import { DEFAULT_SORT, FACET_NAMES } from '../model/interaction.js';
import { toBucket } from './range.js';
import { graphqlAdapter } from '../ingest/adapters/index.js';
import { BatchTooLargeError, type IngestOutcome } from '../ingest/service.js';
import type { Context } from './context.js';
import { resolvePage } from './pagination.js';
import { userInputError } from './errors.js';
import { FILTER_COLUMNS } from '../store/core/columns.js';
import { MAX_SEARCH_LENGTH } from '../store/core/filter.js';

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

const SORT_KEYS = { TIME: 'time', RESPONSE_TIME: 'responseTime', TOKENS: 'tokens', COST: 'cost' } as const;

const InteractionSortKeyRef = builder.enumType('InteractionSortKey', {
  description: 'What the explorer orders by; absent tokens and cost count as 0.',
  values: Object.keys(SORT_KEYS) as (keyof typeof SORT_KEYS)[],
});

export const SortDirectionRef = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });

export const InteractionSortInput = builder.inputType('InteractionSort', {
  fields: (t) => ({
    by: t.field({ type: InteractionSortKeyRef, required: true }),
    direction: t.field({ type: SortDirectionRef, required: false, defaultValue: 'DESC' }),
  }),
});

export function toSort(s: { by: keyof typeof SORT_KEYS; direction?: 'ASC' | 'DESC' | null } | null | undefined): InteractionSort {
  if (!s) return DEFAULT_SORT;
  return { by: SORT_KEYS[s.by], direction: s.direction === 'ASC' ? 'asc' : 'desc' };
}

const MAX_FACET_VALUES = 100;

const FacetValueRef = builder.objectRef<FacetValue>('FacetValue').implement({
  fields: (t) => ({
    value: t.exposeString('value', { nullable: true, description: 'Null counts the interactions without a value.' }),
    count: t.exposeInt('count'),
  }),
});

interface FacetsRequest {
  filter: InteractionFilter;
  limit: number;
}

const InteractionFacetsRef = builder.objectRef<FacetsRequest>('InteractionFacets').implement({
  description:
    'Facet counts of the matches. Each facet but `tool` sums to the total count when all its values fit in `limit`; an interaction counts under every tool it called.',
  // Each facet is one read, run only when selected.
  fields: (t) =>
    Object.fromEntries(
      FACET_NAMES.map((name) => [
        name,
        t.field({
          type: [FacetValueRef],
          resolve: async (req, _args, ctx) => (await ctx.services.store.interactionFacets(req.filter, req.limit, [name]))[name] ?? [],
        }),
      ]),
    ),
});

const MatchBucketRef = builder.objectRef<MatchBucket>('MatchBucket').implement({
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (b) => b.start }),
    count: t.exposeInt('count'),
    errors: t.exposeInt('errors', { description: 'Failed interactions among them.' }),
  }),
});

export const InteractionFilterInput = builder.inputType('InteractionFilter', {
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: false }),
    to: t.field({ type: 'DateTime', required: false }),
    // The equality filters derive from the column list: one per column marked `filter`.
    ...Object.fromEntries(
      FILTER_COLUMNS.map((c) => [c.field, c.kind === 'bool' ? t.boolean({ required: false }) : t.string({ required: false })]),
    ),
    tool: t.string({ required: false, description: 'Interactions that called this tool.' }),
    search: t.string({
      required: false,
      description:
        'Case-insensitive text anywhere in the user input (substrings, any script). 1–2 characters search the newest 200,000 interactions only.',
    }),
  }),
});

type FilterArg = Readonly<Record<string, unknown>> | null | undefined;

export function toFilter(f: FilterArg): InteractionFilter {
  if (!f) return {};
  if (typeof f.search === 'string' && f.search.length > MAX_SEARCH_LENGTH) {
    throw userInputError(`filter.search: at most ${MAX_SEARCH_LENGTH} characters (got ${f.search.length})`);
  }
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
  interactions: t.connection(
    {
      type: InteractionRef,
      description:
        'Interactions matching `filter`, newest first unless `sort` says otherwise (ties by insertion order), with cursor pagination (`first`, `after`); a cursor belongs to its sort.',
      args: {
        filter: t.arg({ type: InteractionFilterInput, required: false }),
        sort: t.arg({ type: InteractionSortInput, required: false }),
      },
      resolve: async (_root, args, ctx) => {
        const filter = toFilter(args.filter);
        const connection = await resolvePage('interactions', args, (page) => ctx.services.store.listInteractions(filter, page, toSort(args.sort)));
        return Object.assign(connection, { filter });
      },
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          description: 'Interactions matching the filter (all pages). Counted only when asked for.',
          resolve: async (conn, _args, ctx) => (await countOnce(conn as Counted, ctx)).count,
        }),
        totalCountEstimated: c.boolean({
          description: 'True when `totalCount` covers only part of the matches: a 1–2 character search counts the newest 200,000 interactions.',
          resolve: async (conn, _args, ctx) => (await countOnce(conn as Counted, ctx)).estimated,
        }),
      }),
    },
  ),
  interactionFacets: t.field({
    type: InteractionFacetsRef,
    description: 'The most frequent values of each facet among the interactions matching `filter` (most frequent first).',
    args: {
      filter: t.arg({ type: InteractionFilterInput, required: false }),
      limit: t.arg.int({ required: false, defaultValue: 10, description: `Values per facet, 1 to ${MAX_FACET_VALUES}.` }),
    },
    resolve: (_root, args, ctx) => {
      const limit = args.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FACET_VALUES) throw userInputError(`limit: must be between 1 and ${MAX_FACET_VALUES}`);
      return { filter: toFilter(args.filter), limit };
    },
  }),
  interactionHistogram: t.field({
    type: [MatchBucketRef],
    description:
      'Matches of `filter` per time bucket over its from/to (the last 24 h up to now when absent); buckets without matches are left out.',
    args: {
      filter: t.arg({ type: InteractionFilterInput, required: false }),
      bucket: t.arg.string({ required: false, description: 'Bucket size (whole minutes): 1m, 5m, 1h, 1d. Chosen from the range when absent.' }),
    },
    resolve: (_root, args, ctx) => {
      const filter = toFilter(args.filter);
      const to = filter.to ?? Date.now();
      const from = filter.from ?? to - 86_400_000;
      if (from >= to) throw userInputError('filter: from must be before to');
      const bucketMs = toBucket({ from, to }, args.bucket);
      return ctx.services.store.interactionHistogram({ ...filter, from, to }, bucketMs);
    },
  }),
}));

/** The connection carries its filter so totalCount is counted (once) only when selected. */
interface Counted {
  filter: InteractionFilter;
  count?: Promise<InteractionCount>;
}

function countOnce(conn: Counted, ctx: Context): Promise<InteractionCount> {
  return (conn.count ??= ctx.services.store.countInteractions(conn.filter));
}

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
