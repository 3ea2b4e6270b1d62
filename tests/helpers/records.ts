/**
 * A stored interaction for tests that work below the ingest path (store, roll-ups): every
 * field of the canonical record present, optional ones null, so a new field needs no edit here.
 */
import { interactionFields, type Interaction } from '@ai-monitor/schema';

export function storedInteraction(fields: Partial<Interaction> & Pick<Interaction, 'timestamp'>): Interaction {
  const nulls = Object.fromEntries(Object.keys(interactionFields).map((k) => [k, null]));
  return {
    ...nulls,
    id: 'id',
    sessionId: 's1',
    receivedAt: fields.timestamp,
    userInput: '',
    intent: 'greet',
    toolsUsed: [],
    responseTimeMs: 100,
    success: true,
    ...fields,
  } as Interaction;
}
