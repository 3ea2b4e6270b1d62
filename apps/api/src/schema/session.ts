/** Sessions: the interactions of one conversation. */
import { builder } from './builder.js';
import type { SessionSummary } from '../model/interaction.js';
import { InteractionFilterInput, InteractionRef, SortDirectionRef, toFilter } from './interaction.js';
import { resolvePage } from './pagination.js';

const SESSION_SORT_KEYS = { LAST_SEEN: 'lastSeen', ERROR_RATE: 'errorRate', INTERACTIONS: 'interactions', DURATION: 'duration' } as const;

const SessionSortKeyRef = builder.enumType('SessionSortKey', {
  description: 'LAST_SEEN: latest activity; ERROR_RATE: failed ÷ all; INTERACTIONS: length in interactions; DURATION: last seen − first seen.',
  values: Object.keys(SESSION_SORT_KEYS) as (keyof typeof SESSION_SORT_KEYS)[],
});

const SessionSortInput = builder.inputType('SessionSort', {
  fields: (t) => ({
    by: t.field({ type: SessionSortKeyRef, required: true }),
    direction: t.field({ type: SortDirectionRef, required: false, defaultValue: 'DESC' }),
  }),
});

export const SessionRef = builder.objectRef<SessionSummary>('Session').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    firstSeen: t.field({ type: 'DateTime', resolve: (s) => s.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', resolve: (s) => s.lastSeen }),
    interactionCount: t.exposeInt('interactionCount'),
    errorCount: t.exposeInt('errorCount'),
    errorRate: t.float({ description: 'Percent (0–100).', resolve: (s) => (s.interactionCount ? (100 * s.errorCount) / s.interactionCount : 0) }),
    meanResponseTimeMs: t.float({ nullable: true, resolve: (s) => (s.interactionCount ? s.totalResponseTimeMs / s.interactionCount : null) }),
    interactions: t.connection({
      type: InteractionRef,
      description: "The session's interactions, newest first.",
      resolve: (s, args, ctx) => resolvePage('interactions', args, (page) => ctx.services.store.listInteractions({ sessionId: s.id }, page)),
    }),
  }),
});

builder.queryFields((t) => ({
  session: t.field({
    type: SessionRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.store.getSession(String(id)),
  }),
  sessions: t.connection({
    type: SessionRef,
    description:
      'Sessions, most recently active first unless `sort` says otherwise (ties by id); `from`/`to` select sessions active in that range; ' +
      '`filter` keeps sessions with at least one matching interaction (search their text, narrow by assistant, …).',
    args: {
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
      filter: t.arg({ type: InteractionFilterInput, required: false }),
      sort: t.arg({ type: SessionSortInput, required: false }),
    },
    resolve: (_root, args, ctx) =>
      resolvePage('sessions', args, (page) =>
        ctx.services.store.listSessions({ from: args.from?.getTime(), to: args.to?.getTime() }, page, {
          filter: args.filter ? toFilter(args.filter) : undefined,
          sort: args.sort ? { by: SESSION_SORT_KEYS[args.sort.by], direction: args.sort.direction === 'ASC' ? 'asc' : 'desc' } : undefined,
        }),
      ),
  }),
}));
