/** Structured JSON logs (pino) to standard output and, optionally, to a file. */
import { pino, type Logger } from 'pino';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type { Logger };

export function createLogger(opts: { level: string; file?: string | undefined; name?: string }): Logger {
  const streams: pino.StreamEntry[] = [{ level: opts.level as pino.Level, stream: pino.destination({ dest: 1, sync: true }) }];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    streams.push({ level: opts.level as pino.Level, stream: pino.destination({ dest: opts.file, mkdir: true, sync: false }) });
  }
  return pino(
    { name: opts.name ?? 'ai-monitor', level: opts.level, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams),
  );
}
