/**
 * Alert settings in the store on one node (SQLite): the file is the user's and wins at start;
 * updateAlertConfig writes both the file and the stored copy. Plus the stores themselves:
 * versions on SQLite, and PostgreSQL's change notices between two instances.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteSettingsStore } from '../../apps/api/src/store/settings-sqlite.js';
import { SqliteStore } from '../../apps/api/src/store/sqlite.js';
import { PostgresStore } from '../../apps/api/src/store/postgres.js';
import { PostgresSettingsStore } from '../../apps/api/src/store/settings-postgres.js';
import { gql, makeDataDir, startServer, type RunningServer } from '../helpers/server.js';
import { PG_URL, dropSchema, noteSkip, probePostgres, randomName } from '../helpers/services.js';
import { updateAlertConfig, waitFor, writeAlertConfig } from './support.js';

const pgError = await probePostgres();
noteSkip('alert settings store', 'PostgreSQL', pgError);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function storedAlerts(dataDir: string): { value: Record<string, unknown>; version: number } | null {
  const db = new Database(join(dataDir, 'realtime_monitoring.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT value, version FROM settings WHERE key = 'alerts'").get() as { value: string; version: number } | undefined;
    return row ? { value: JSON.parse(row.value) as Record<string, unknown>, version: row.version } : null;
  } finally {
    db.close();
  }
}

async function errorRateThreshold(server: RunningServer): Promise<number> {
  const res = await gql<{ alertConfig: { errorRateThreshold: number } }>(server, '{ alertConfig { errorRateThreshold } }');
  return res.data!.alertConfig.errorRateThreshold;
}

describe('alert settings on one node', () => {
  it('stores the file at start, stores every update, and keeps the file over the stored copy after a restart', async () => {
    const dataDir = makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    writeAlertConfig(dataDir, { error_rate_threshold: 7 });
    let server = await startServer({ dataDir });
    cleanups.push(() => server.stop());
    expect(await errorRateThreshold(server)).toBe(7);

    expect((await updateAlertConfig(server, { errorRateThreshold: 12 })).errors).toBeUndefined();
    expect(JSON.parse(readFileSync(join(dataDir, 'alert_config.json'), 'utf8'))).toMatchObject({ error_rate_threshold: 12 });
    await server.stop();
    const stored = storedAlerts(dataDir)!;
    expect(stored.value).toMatchObject({ error_rate_threshold: 12 });

    // The user edits the file while the server is down: the file wins and becomes the stored copy.
    writeAlertConfig(dataDir, { error_rate_threshold: 3 });
    server = await startServer({ dataDir });
    expect(await errorRateThreshold(server)).toBe(3);
    await server.stop();
    const again = storedAlerts(dataDir)!;
    expect(again.value).toMatchObject({ error_rate_threshold: 3 });
    expect(again.version).toBeGreaterThan(stored.version);
  });
});

describe('settings stores', () => {
  it('SQLite: the first write is version 1, each write one more, values round-trip', async () => {
    // The table comes with the store's migrations.
    const sqlite = new SqliteStore({ file: ':memory:' });
    cleanups.push(() => void sqlite.close());
    await sqlite.migrate();
    const store = new SqliteSettingsStore(sqlite.db);
    expect(await store.read('alerts')).toBeNull();
    expect((await store.write('alerts', { a: 1 })).version).toBe(1);
    expect((await store.write('alerts', { a: 2, list: ['x'] })).version).toBe(2);
    expect(await store.read('alerts')).toEqual({ value: { a: 2, list: ['x'] }, version: 2 });
    expect(store.shared).toBe(false);
  });

  it.skipIf(pgError !== null)('PostgreSQL: a write on one instance is announced to the other, not to itself', async () => {
    const schema = randomName('aim_settings');
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.end();
    cleanups.push(() => dropSchema(schema));
    // The table comes with the store's migrations.
    const migrated = new PostgresStore({ url: PG_URL, schema });
    await migrated.migrate();
    await migrated.close();
    const [a, b] = [new PostgresSettingsStore({ url: PG_URL, schema }), new PostgresSettingsStore({ url: PG_URL, schema })];
    cleanups.push(() => a.close(), () => b.close());
    const heardA: string[] = [];
    const heardB: string[] = [];
    a.watch((k) => heardA.push(k));
    b.watch((k) => heardB.push(k));
    // The listener connects in the background: write until B has heard one.
    let version = 0;
    await waitFor(async () => {
      version = (await a.write('alerts', { n: version + 1 })).version;
      return heardB.length > 0;
    }, 'the change notice on the other instance', 20_000);
    expect(heardB[0]).toBe('alerts');
    expect(heardA).toEqual([]);
    expect(await b.read('alerts')).toEqual({ value: { n: version }, version });
  });
});
