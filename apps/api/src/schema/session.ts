/** Sessions: the interactions of one conversation. */
import { builder } from './builder.js';
import type { SessionSummary } from '../model/interaction.js';
import { InteractionRef, asStoreUserError, pageSize, toConnection } from './interaction.js';

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
      resolve: async (s, args, ctx) => {
        try {
          const page = await ctx.services.store.listInteractions({ sessionId: s.id }, { first: pageSize(args.first), after: args.after });
          return toConnection(page, args.after);
        } catch (err) {
          throw asStoreUserError(err);
        }
      },
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
    resolve: async (_root, args, ctx) => {
      try {
        const range = { from: args.from?.getTime(), to: args.to?.getTime() };
        const page = await ctx.services.store.listSessions(range, { first: pageSize(args.first), after: args.after });
        return toConnection(page, args.after);
      } catch (err) {
        throw asStoreUserError(err);
      }
    },
  }),
}));
