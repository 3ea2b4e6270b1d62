/**
 * `ai-monitor config check`: loads and validates the server configuration (flags, environment,
 * config file, defaults) and the alert settings file, and prints the effective values with
 * secrets masked. Exit 0 when valid, 2 with the offending field when not.
 */
import { PriceFileError, loadUserPrices } from '../pricing/user-file.js';
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_ALERT_CONFIG } from '@ai-monitor/schema';
import { configFromEnv, configSchema, loadConfig, type Config } from '../config/load.js';
import { AlertConfigError, fileLabel, parseAlertConfig, type AlertSettings } from '../alerts/config-schema.js';
import { action, EXIT, UsageError, withDataOptions } from './common.js';
import { pad } from './output.js';
import { MASK, redactUrl } from '../config/redact.js';

interface CheckFlags {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration tools');
  withDataOptions(config.command('check').description('validate the configuration and alert_config.json and print the effective settings (secrets masked)'))
    .option('--json', 'print the effective settings as JSON')
    .addHelpText(
      'after',
      `
Precedence: flags over environment (AI_MONITOR_*) over the config file over defaults.
Each value is shown with where it came from. Exit status 0 when everything is valid,
2 with the field named when something is not.

Examples:
  ai-monitor config check
  AI_MONITOR_PORT=9000 ai-monitor config check --config /etc/ai-monitor/config.json`,
    )
    .action(action('config check', (flags: CheckFlags) => runCheck(flags)));
}

type Origin = 'flag' | 'env' | 'file' | 'default' | 'derived';

/**
 * Settings computed from others when not given: the files from dataDir, GraphiQL from NODE_ENV,
 * the zone of naive timestamps from the server's own zone.
 */
const DERIVED = new Set(['dbFile', 'alertConfigFile', 'modelPricesFile', 'modelPricesFileSet', 'graphiql', 'introspection', 'production', 'naiveTimezone']);

interface AlertReport {
  file: string;
  exists: boolean;
  settings: AlertSettings;
}

async function runCheck(flags: CheckFlags): Promise<number> {
  const config = loadConfig({ flags: { dataDir: flags.dataDir, config: flags.config } });
  const origins = originsOf(flags);
  const alerts = loadAlerts(config.alertConfigFile);
  const prices = loadPrices(config.modelPricesFile, config.modelPricesFileSet);
  const shownConfig = maskConfig(config);
  const shownAlerts = maskAlerts(alerts.settings);
  if (flags.json) {
    const body = { valid: true, config: shownConfig, origins, alerts: { file: alerts.file, exists: alerts.exists, settings: shownAlerts } };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT.OK;
  }
  const lines = ['configuration: valid'];
  const keyWidth = Math.max(...Object.keys(shownConfig).map((k) => k.length)) + 1;
  const valueWidth = Math.min(60, Math.max(...Object.values(shownConfig).map((v) => show(v).length)) + 1);
  for (const [key, value] of Object.entries(shownConfig)) {
    lines.push(`  ${pad(key, keyWidth)} ${pad(show(value), valueWidth)} (${origins[key] ?? 'derived'})`);
  }
  lines.push('', `alert settings: valid — ${alerts.file}${alerts.exists ? '' : " (does not exist yet; the server creates it with the seed's defaults)"}`);
  for (const [key, value] of Object.entries(shownAlerts)) lines.push(`  ${pad(key, 30)} ${show(value)}`);
  lines.push('', `model prices: valid — ${config.modelPricesFile}${existsSync(config.modelPricesFile) ? ` (${prices} ${prices === 1 ? 'model' : 'models'})` : ' (does not exist; the packaged price table alone)'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.OK;
}

/** Which layer each setting came from. */
function originsOf(flags: CheckFlags): Record<string, Origin> {
  const origins: Record<string, Origin> = {};
  const file = flags.config ?? process.env.AI_MONITOR_CONFIG;
  if (file) for (const key of Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)) origins[key] = 'file';
  for (const key of Object.keys(configFromEnv(process.env))) origins[key] = 'env';
  if (flags.dataDir !== undefined) origins.dataDir = 'flag';
  for (const key of [...Object.keys(configSchema.shape), 'production']) origins[key] ??= DERIVED.has(key) ? 'derived' : 'default';
  return origins;
}

/** Validates the user's model price file; returns how many models it prices. */
function loadPrices(file: string, required: boolean): number {
  try {
    return loadUserPrices(file, required).length;
  } catch (err) {
    if (err instanceof PriceFileError) throw new UsageError(err.message);
    throw err;
  }
}

/** Reads the alert settings without creating the file (the server does that at start). */
function loadAlerts(file: string): AlertReport {
  if (!existsSync(file)) return { file, exists: false, settings: parseAlertConfig(DEFAULT_ALERT_CONFIG, fileLabel(file)) };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  try {
    return { file, exists: true, settings: parseAlertConfig(raw, fileLabel(file)) };
  } catch (err) {
    if (err instanceof AlertConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** `postgres://user:****@host/db`: the password of a URL hidden, the rest kept. */
function maskUrl(text: string | null | undefined, hidePath = false): string | null | undefined {
  return text ? redactUrl(text, hidePath) : text;
}

function maskConfig(c: Config): Record<string, unknown> {
  const tokens = (list: string[]): string[] => list.map(() => MASK);
  return {
    ...c,
    ingestTokens: tokens(c.ingestTokens),
    readTokens: tokens(c.readTokens),
    adminTokens: tokens(c.adminTokens),
    databaseUrl: maskUrl(c.databaseUrl),
    redisUrl: maskUrl(c.redisUrl),
    smtpUrl: maskUrl(c.smtpUrl),
  };
}

/** Webhook URLs often carry their secret in the path (chat webhooks), so only the host shows. */
function maskAlerts(s: AlertSettings): Record<string, unknown> {
  return { ...s, webhook_url: maskUrl(s.webhook_url, true), smtp_url: maskUrl(s.smtp_url) };
}

function show(value: unknown): string {
  if (value === undefined) return '(not set)';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
  return typeof value === 'string' ? value : JSON.stringify(value);
}
