#!/usr/bin/env node
/** `ai-monitor`: the command line. Each command lives in cli/<name>.ts. */
import { Command } from 'commander';
import { registerServe } from './cli/serve.js';
import { registerDemo } from './cli/demo.js';
import { registerTail } from './cli/tail.js';
import { registerStats } from './cli/stats.js';
import { registerBackup } from './cli/backup.js';
import { registerRestore } from './cli/restore.js';
import { registerCleanup } from './cli/cleanup.js';
import { registerConfig } from './cli/config-check.js';
import { EXIT } from './cli/common.js';

const program = new Command('ai-monitor')
  .description('Self-hosted, real-time monitoring for AI assistants and agents')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride((err) => {
    // Help and --version exit 0; every usage error (unknown option, bad value) exits 2.
    process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
  })
  .addHelpText(
    'after',
    `
Exit status (every command):
  0  done
  1  failed while working: server unreachable, database in use, backup invalid, records refused
  2  bad usage or configuration: unknown option, bad value, missing file; nothing was done

Environment: AI_MONITOR_URL (server URL for demo, tail, stats), AI_MONITOR_TOKEN (their token),
AI_MONITOR_DATA_DIR, AI_MONITOR_CONFIG and the other AI_MONITOR_* settings (see README).
Run "ai-monitor <command> --help" for a command's options and examples.`,
  );

registerServe(program);
registerDemo(program);
registerTail(program);
registerStats(program);
registerBackup(program);
registerRestore(program);
registerCleanup(program);
registerConfig(program);

await program.parseAsync(process.argv);
