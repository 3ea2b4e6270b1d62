/** `ai-monitor serve`: runs the server until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { GRAPHQL_PATH } from '@ai-monitor/schema';
import { createLogger, type ReadyUrls } from '../log/logger.js';
import { configOrExit, withDataOptions } from './common.js';

/** Addresses that mean "every interface": a browser on this machine opens localhost instead. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]']);

/** The URLs to open, from the address the server is listening on. */
export function readyUrls(where: { url: string }, graphiql: boolean): ReadyUrls {
  const url = new URL(where.url);
  if (ANY_ADDRESS.has(url.hostname)) url.hostname = 'localhost';
  const base = url.origin;
  return {
    dashboard: `${base}/`,
    graphiql: graphiql ? `${base}${GRAPHQL_PATH}` : undefined,
    seed: base.replace(/^http/, 'ws'),
  };
}

export function registerServe(program: Command): void {
  withDataOptions(
    program
      .command('serve')
      .description('start the server: GraphQL, seed WebSocket, health, metrics and the dashboard on one port')
      .option('-H, --host <host>', 'listen address (env AI_MONITOR_HOST, default 0.0.0.0)')
      .option('-p, --port <port>', 'listen port, 0 for any free port (env AI_MONITOR_PORT, default 8765)')
      .option('--log-format <format>', 'auto (human lines on a terminal, JSON otherwise), json or pretty (env AI_MONITOR_LOG_FORMAT)'),
  ).action(async (flags: { host?: string; port?: string; dataDir?: string; config?: string; logFormat?: string }) => {
    const config = configOrExit(flags);
    const logger = createLogger({ level: config.logLevel, file: config.logFile, format: config.logFormat });
    // Loaded here, not at the top: the other commands start faster without the server's modules.
    const { createApp } = await import('../server.js');
    let app;
    try {
      app = await createApp(config, logger);
    } catch (err) {
      logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
      process.exit(1);
    }
    let where;
    try {
      where = await app.start();
    } catch (err) {
      logger.fatal({ err }, `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
      await app.stop();
      process.exit(1);
    }
    const ready = `listening on ${where.url}`;
    // Scripts wait for this line, so it is printed even when the log level hides info.
    // `urls` become labelled lines on a terminal (see log/logger.ts) and fields in JSON.
    const urls = readyUrls(where, config.graphiql);
    if (logger.isLevelEnabled('info')) logger.info({ storage: config.storage, database: config.storage === 'sqlite' ? config.dbFile : 'postgres', urls }, ready);
    else process.stdout.write(`${ready}\n`);
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      app
        .stop()
        .then(() => process.exit(0))
        .catch((err: unknown) => {
          logger.error({ err }, 'unclean shutdown');
          process.exit(1);
        });
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
}
