/** GraphQL's InteractionInput → the canonical record. */
import { interactionFields, toolUseFields } from '@ai-monitor/schema';
import type { IngestAdapter } from './types.js';
import { recordRenamer, type NameMap } from './rename.js';

const identity = (fields: object): NameMap => Object.fromEntries(Object.keys(fields).map((k) => [k, k]));

/** The input type is generated from the canonical fields, so the names already match; GraphQL checked the types. */
export const graphqlAdapter: IngestAdapter = {
  transport: 'graphql',
  naming: 'camel',
  toCanonical: recordRenamer(identity(interactionFields), identity(toolUseFields)),
};
