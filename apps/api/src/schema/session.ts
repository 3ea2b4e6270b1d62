/** Sessions: the interactions of one conversation. */
import { builder } from './builder.js';
import type { SessionSummary } from '../model/interaction.js';
import { InteractionRef } from './interaction.js';
import { resolvePage } from './pagination.js';

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
    description: 'Sessions, most recently active first; `from`/`to` select sessions active in that range.',
    args: {
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: (_root, args, ctx) =>
      resolvePage('sessions', args, (page) => ctx.services.store.listSessions({ from: args.from?.getTime(), to: args.to?.getTime() }, page)),
  }),
}));
