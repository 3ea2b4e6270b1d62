/** Chooses the storage implementation from configuration. */
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { StoreError, type Store } from './types.js';
import { SqliteStore } from './sqlite.js';
import { SqliteSettingsStore } from './settings-sqlite.js';
import { attachSettings } from './settings.js';

export async function createStore(config: Config, logger?: Logger): Promise<Store> {
  if (config.storage === 'postgres') {
    if (!config.databaseUrl) {
      throw new StoreError('storage "postgres" needs a connection URL: set AI_MONITOR_DATABASE_URL (databaseUrl)');
    }
    // Loaded on demand: the embedded default never loads the PostgreSQL driver.
    const { PostgresStore } = await import('./postgres.js');
    const { PostgresSettingsStore } = await import('./settings-postgres.js');
    const store = new PostgresStore({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      readPoolSize: config.postgresReadConnections,
      onPoolError: (err) => logger?.warn({ err }, `PostgreSQL connection lost (the pool reconnects): ${err.message}`),
    });
    const settings = new PostgresSettingsStore({
      url: config.databaseUrl,
      schema: store.schema,
      onError: (err) => logger?.warn({ err }, `PostgreSQL settings connection lost (it reconnects): ${err.message}`),
    });
    return attachSettings(store, settings);
  }
  const store = new SqliteStore({ file: config.dbFile, readers: config.sqliteReaders });
  return attachSettings(store, new SqliteSettingsStore(store.db));
}
