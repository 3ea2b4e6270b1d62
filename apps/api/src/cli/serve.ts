/** `ai-monitor serve`: runs the server until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { createLogger } from '../log/logger.js';
import { configOrExit, withDataOptions } from './common.js';

export function registerServe(program: Command): void {
  withDataOptions(
    program
      .command('serve')
      .description('start the server: GraphQL, seed WebSocket, health, metrics and the dashboard on one port')
      .option('-H, --host <host>', 'listen address (env AI_MONITOR_HOST, default 0.0.0.0)')
      .option('-p, --port <port>', 'listen port, 0 for any free port (env AI_MONITOR_PORT, default 8765)'),
  ).action(async (flags: { host?: string; port?: string; dataDir?: string; config?: string }) => {
    const config = configOrExit(flags);
    const logger = createLogger({ level: config.logLevel, file: config.logFile });
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
    if (logger.isLevelEnabled('info')) logger.info({ storage: config.storage, database: config.storage === 'sqlite' ? config.dbFile : 'postgres' }, ready);
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
