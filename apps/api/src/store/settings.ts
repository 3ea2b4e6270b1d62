/**
 * The settings concern of the store: small JSON documents (today the alert settings, key
 * `alerts`) with a version that grows on every write. On PostgreSQL every replica reads the
 * same row and hears about each write; on SQLite there is one node and nothing to hear.
 *
 * The table is created on first use (`CREATE TABLE IF NOT EXISTS`) rather than by a schema
 * migration, so databases keep their schema version and older versions of ai-monitor can
 * still open them (they simply ignore the table).
 */
import { StoreError, type Store } from './types.js';

export interface StoredSetting {
  value: unknown;
  /** 1 on the first write, then one more per write. */
  version: number;
}

export interface SettingsStore {
  /** True when several replicas share these settings (PostgreSQL): the stored copy is the cluster's. */
  readonly shared: boolean;
  /** Null when never written. */
  read(key: string): Promise<StoredSetting | null>;
  /** Stores `value` under `key` and tells the other replicas; resolves with the new version. */
  write(key: string, value: unknown): Promise<StoredSetting>;
  /**
   * Calls `onChange` with the key when another replica wrote (best effort: callers also
   * re-read now and then). Returns a function that stops watching.
   */
  watch(onChange: (key: string) => void): () => void;
  close(): Promise<void>;
}

/** Gives `store` its settings concern; the store's `close` closes it too. */
export function attachSettings<S extends Store>(store: S, settings: SettingsStore): S {
  const closeStore = store.close.bind(store);
  store.settings = settings;
  store.close = async () => {
    await settings.close();
    await closeStore();
  };
  return store;
}

/** The settings key of the alert settings (alert_config.json's content). */
export const ALERT_SETTINGS_KEY = 'alerts';

/** A stored value's JSON, with an error naming the setting when it is damaged. */
export function parseStoredSetting(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreError(`stored setting "${key}" is not valid JSON (${(err as Error).message}); update it again to replace it`);
  }
}
