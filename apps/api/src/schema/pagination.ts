/** Forward cursor pagination, shared by every connection field. */
import type { Page, PageRequest } from '../model/interaction.js';
import { InvalidCursorError } from '../store/types.js';
import { userInputError } from './errors.js';

export const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;

export interface ConnectionArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

/** Relay connection shape from a store page. */
function toConnection<T>(page: Page<T>, after: string | null | undefined) {
  return {
    edges: page.items.map((node, i) => ({ node, cursor: page.cursors[i]! })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: Boolean(after),
      startCursor: page.cursors[0] ?? null,
      endCursor: page.endCursor,
    },
  };
}

/** Checks `first`/`after`, loads one page and answers it as a connection; bad input names the argument. */
export async function resolvePage<T>(field: string, args: ConnectionArgs, load: (page: PageRequest) => Promise<Page<T>>) {
  if (args.last != null || args.before != null) throw userInputError(`${field}: page forward with first/after; last/before are not supported`);
  const first = args.first ?? DEFAULT_PAGE;
  if (first < 1 || first > MAX_PAGE) throw userInputError(`first: must be between 1 and ${MAX_PAGE}`);
  try {
    return toConnection(await load({ first, after: args.after }), args.after);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw userInputError(err.message);
    throw err;
  }
}
