/** Chooses the storage implementation from configuration. */
import type { Config } from '../config/load.js';
import { StoreError, type Store } from './types.js';
import { SqliteStore } from './sqlite.js';

export async function createStore(config: Config): Promise<Store> {
  if (config.storage === 'postgres') {
    throw new StoreError('storage "postgres" is not available in this build');
  }
  return new SqliteStore({ file: config.dbFile });
}
