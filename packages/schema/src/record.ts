/**
 * The canonical interaction record, defined once (camelCase). Everything else derives from the
 * field tables below: the validation schema, the stored record type, the seed's snake_case wire
 * type and name map, and the GraphQL input and output types (the API builds them from
 * `graphql` of each field). Adding a scalar field is one line in `interactionFields`.
 */
import { z } from 'zod';
import { FEEDBACK_SCALE, MAX_ID, MAX_JSON_DEPTH, MAX_LABEL, MAX_TOOL_CALLS, MAX_TOOL_ERROR, nestedDeeperThan } from './limits.js';

/** GraphQL type names a record field maps to; `ToolUse` / `ToolUseInput` are lists of tool calls. */
export type GraphQLOutputName = 'ID' | 'String' | 'Float' | 'Int' | 'Boolean' | 'JSONObject' | 'DateTime' | 'ToolUse';
export type GraphQLInputName = 'String' | 'Float' | 'Int' | 'Boolean' | 'JSONObject' | 'ToolUseInput';

export interface GraphQLMapping {
  /** Type in the output object. */
  output: GraphQLOutputName;
  /** Type in the input object; null for fields the server sets (receivedAt). */
  input: GraphQLInputName | null;
  /** Required (`!`) in the input object. */
  required: boolean;
  outputDescription?: string;
  inputDescription?: string;
}

export interface FieldSpec<S extends z.ZodType = z.ZodType> {
  /** Validation of the caller's value; optional fields are `nullish`. */
  schema: S;
  graphql: GraphQLMapping;
}

const spec = <S extends z.ZodType>(schema: S, graphql: GraphQLMapping): FieldSpec<S> => ({ schema, graphql });
const opt = (type: GraphQLInputName & GraphQLOutputName, extra: Partial<GraphQLMapping> = {}): GraphQLMapping => ({
  output: type,
  input: type,
  required: false,
  ...extra,
});
const req = (type: GraphQLInputName & GraphQLOutputName, extra: Partial<GraphQLMapping> = {}): GraphQLMapping => ({
  output: type,
  input: type,
  required: true,
  ...extra,
});

const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => !nestedDeeperThan(v, MAX_JSON_DEPTH), `must not nest objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
const optText = (max: number) => z.string().max(max, `must be at most ${max} characters`).nullish();
const optCount = z.number().int('must be a whole number').min(0, 'must be 0 or more').nullish();
const FEEDBACK_OUT_OF_SCALE = `must be between ${FEEDBACK_SCALE.min} and ${FEEDBACK_SCALE.max} (the feedback scale)`;
const FEEDBACK_DESCRIPTION = `The user's rating of the answer, from ${FEEDBACK_SCALE.min} (poor) to ${FEEDBACK_SCALE.max} (excellent); values outside the scale are refused.`;

/** One tool call made while handling an interaction. Field order is the order errors are reported in. */
export const toolUseFields = {
  tool: spec(z.string().min(1, 'must not be empty').max(MAX_LABEL), req('String')),
  params: spec(jsonObject.nullish(), opt('JSONObject')),
  durationMs: spec(z.number().min(0, 'must be 0 or more').nullish(), opt('Float')),
  success: spec(z.boolean().nullish(), opt('Boolean')),
  error: spec(z.string().max(MAX_TOOL_ERROR).nullish(), opt('String')),
} satisfies Record<string, FieldSpec>;

type SchemasOf<F extends Record<string, FieldSpec>> = { [K in keyof F]: F[K]['schema'] };
const schemasOf = <F extends Record<string, FieldSpec>>(fields: F): SchemasOf<F> =>
  Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.schema])) as SchemasOf<F>;

export const toolUseSchema = z.object(schemasOf(toolUseFields));

/**
 * The interaction's fields as a caller sends them (camelCase). Field order is the order errors
 * are reported in. `receivedAt` is set by the server and is not part of the input.
 */
export const interactionFields = {
  id: spec(z.string().min(1, 'must not be empty').max(MAX_ID, `must be at most ${MAX_ID} characters`).nullish(), {
    output: 'ID',
    input: 'String',
    required: false,
    inputDescription: 'Idempotency key: a repeated id is stored once.',
  }),
  sessionId: spec(z.string().min(1, 'must not be empty').max(MAX_ID, `must be at most ${MAX_ID} characters`), req('String')),
  timestamp: spec(z.union([z.string(), z.number()]).nullish(), {
    output: 'DateTime',
    input: 'String',
    required: false,
    inputDescription:
      "ISO-8601; without a zone it is read in AI_MONITOR_NAIVE_TIMEZONE (default: the server's zone). Defaults to receive time; a time more than the clock-skew tolerance ahead is stored at receive time.",
  }),
  userInput: spec(z.string(), req('String')),
  intent: spec(z.string().max(MAX_LABEL, `must be at most ${MAX_LABEL} characters`), req('String')),
  toolsUsed: spec(z.array(toolUseSchema).max(MAX_TOOL_CALLS, `must list at most ${MAX_TOOL_CALLS} tool calls`).nullish(), {
    output: 'ToolUse',
    input: 'ToolUseInput',
    required: false,
  }),
  responseTimeMs: spec(z.number().min(0, 'must be 0 or more').max(1e9, 'must be at most 1e9'), req('Float')),
  success: spec(z.boolean(), req('Boolean')),
  errorType: spec(optText(MAX_LABEL), opt('String')),
  assistant: spec(optText(MAX_LABEL), opt('String')),
  version: spec(optText(MAX_LABEL), opt('String', { outputDescription: "The assistant's release." })),
  environment: spec(
    optText(MAX_LABEL),
    opt('String', { outputDescription: 'Deployment environment, e.g. production or staging.', inputDescription: 'Deployment environment, e.g. production or staging.' }),
  ),
  model: spec(optText(MAX_LABEL), opt('String')),
  userId: spec(optText(MAX_ID), opt('String')),
  inputTokens: spec(optCount, opt('Int')),
  outputTokens: spec(optCount, opt('Int')),
  costUsd: spec(z.number().min(0, 'must be 0 or more').nullish(), opt('Float')),
  feedbackScore: spec(
    z.number().min(FEEDBACK_SCALE.min, FEEDBACK_OUT_OF_SCALE).max(FEEDBACK_SCALE.max, FEEDBACK_OUT_OF_SCALE).nullish(),
    opt('Float', { outputDescription: FEEDBACK_DESCRIPTION, inputDescription: FEEDBACK_DESCRIPTION }),
  ),
  metadata: spec(jsonObject.nullish(), opt('JSONObject')),
} satisfies Record<string, FieldSpec>;

/** Fields the server sets on the stored record (output only). */
export const serverFields = {
  receivedAt: { output: 'DateTime', input: null, required: false },
} as const satisfies Record<string, GraphQLMapping>;

/** The canonical input record schema (camelCase); unknown keys are ignored. */
export const interactionInputSchema = z.object(schemasOf(interactionFields));

export type InteractionInput = z.input<typeof interactionInputSchema>;
export type ToolUseInput = z.input<typeof toolUseSchema>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** Optional fields become present and `null` when absent: the stored form. */
type Normalized<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

/** One tool call as stored (camelCase). */
export type ToolUse = Simplify<Omit<Normalized<z.output<typeof toolUseSchema>>, 'params'> & { params: Record<string, unknown> }>;

/** The stored interaction record, as the services and the GraphQL layer see it (camelCase). */
export type Interaction = Simplify<
  Omit<Normalized<z.output<typeof interactionInputSchema>>, 'id' | 'timestamp' | 'toolsUsed'> & {
    id: string;
    /** Epoch milliseconds (UTC) of when the interaction happened. */
    timestamp: number;
    /** Epoch milliseconds of when the server received it. */
    receivedAt: number;
    toolsUsed: ToolUse[];
  }
>;

/** `sessionId` → `session_id`, at the type level. */
export type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S;

/** `sessionId` → `session_id`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

type SnakeKeys<T> = { [K in keyof T as SnakeCase<K & string>]: T[K] };

/** One tool call as the seed protocol sends it (snake_case). `params` is any JSON object. */
export type ToolUseWire = Simplify<SnakeKeys<ToolUseInput>>;

/** One interaction as an assistant reports it on the seed protocol or HTTP batch (the seed's `data` object). */
export type InteractionWire = Simplify<
  SnakeKeys<Omit<InteractionInput, 'toolsUsed'>> & {
    tools_used?: ToolUseWire[] | null | undefined;
  }
>;

type SnakeMap<F> = { readonly [K in keyof F & string as SnakeCase<K>]: K };
const snakeMap = <F extends Record<string, unknown>>(fields: F): SnakeMap<F> =>
  Object.fromEntries(Object.keys(fields).map((k) => [snakeCase(k), k])) as SnakeMap<F>;

/** The one mapping between the seed's snake_case wire names and the canonical camelCase names. */
export const RECORD_FIELDS = snakeMap(interactionFields);
/** The same for the fields of a tool call. */
export const TOOL_FIELDS = snakeMap(toolUseFields);
