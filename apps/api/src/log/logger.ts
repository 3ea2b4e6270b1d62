/**
 * Logs (pino) to standard output and, optionally, to a file. Standard output gets human lines
 * (pino-pretty) when it is a terminal and JSON lines otherwise; the file always gets JSON.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level: string;
  file?: string | undefined;
  name?: string;
  /** `auto` (default): pretty when standard output is a terminal. */
  format?: LogFormat;
}

/** Links to print under the ready line on a terminal (field `urls` of that record). */
export interface ReadyUrls {
  dashboard: string;
  graphiql?: string | undefined;
  seed: string;
}

const URL_LABELS: Record<keyof ReadyUrls, string> = { dashboard: 'dashboard', graphiql: 'GraphiQL', seed: 'seed socket' };

function isReadyUrls(value: unknown): value is ReadyUrls {
  return typeof value === 'object' && value !== null && typeof (value as ReadyUrls).dashboard === 'string';
}

/** The message, with a record's `urls` as one labelled line each (plain text, so terminals make them links). */
function humanMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  if (!isReadyUrls(log.urls)) return message;
  const urls = log.urls;
  const lines = (Object.keys(URL_LABELS) as (keyof ReadyUrls)[])
    .filter((key) => urls[key])
    .map((key) => `    ${URL_LABELS[key].padEnd(12)} ${urls[key]}`);
  return [message, ...lines].join('\n');
}

export function resolveLogFormat(format: LogFormat, stdoutIsTty: boolean): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return stdoutIsTty ? 'pretty' : 'json';
}

function stdoutStream(format: 'json' | 'pretty'): pino.DestinationStream {
  if (format === 'json') return pino.destination({ dest: 1, sync: true });
  // Synchronous like the JSON stream, so a fatal line is out before process.exit.
  return pretty({
    destination: 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,urls',
    messageFormat: humanMessage,
  });
}

export function createLogger(opts: LoggerOptions): Logger {
  const format = resolveLogFormat(opts.format ?? 'auto', process.stdout.isTTY === true);
  const streams: pino.StreamEntry[] = [{ level: opts.level as pino.Level, stream: stdoutStream(format) }];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    streams.push({ level: opts.level as pino.Level, stream: pino.destination({ dest: opts.file, mkdir: true, sync: false }) });
  }
  return pino(
    { name: opts.name ?? 'ai-monitor', level: opts.level, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams),
  );
}
