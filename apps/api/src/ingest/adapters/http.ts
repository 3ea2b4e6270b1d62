import type { IngestAdapter } from './types.js';
import { snakeToCanonical } from './snake.js';

/** `POST /api/interactions` records: the seed's field names, as on the seed socket. */
export const httpAdapter: IngestAdapter = { transport: 'http', naming: 'snake', toCanonical: snakeToCanonical };
