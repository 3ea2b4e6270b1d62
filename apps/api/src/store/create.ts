/** Chooses the storage implementation from configuration. */
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { StoreError, type Store } from './types.js';
import { SqliteStore } from './sqlite.js';

export async function createStore(config: Config, logger?: Logger): Promise<Store> {
  if (config.storage === 'postgres') {
    if (!config.databaseUrl) {
      throw new StoreError('storage "postgres" needs a connection URL: set AI_MONITOR_DATABASE_URL (databaseUrl)');
    }
    // Loaded on demand: the embedded default never loads the PostgreSQL driver.
    const { PostgresStore } = await import('./postgres.js');
    return new PostgresStore({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      onPoolError: (err) => logger?.warn({ err }, `PostgreSQL connection lost (the pool reconnects): ${err.message}`),
    });
  }
  return new SqliteStore({ file: config.dbFile });
}
