import type { IngestAdapter } from './types.js';
import { snakeToCanonical } from './snake.js';

/** The seed WebSocket protocol's `data` records (the seed's snake_case names). */
export const seedAdapter: IngestAdapter = { transport: 'seed', naming: 'snake', toCanonical: snakeToCanonical };
