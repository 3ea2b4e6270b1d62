#!/usr/bin/env node
/** `ai-monitor`: the command line. Each command lives in cli/<name>.ts. */
import { Command } from 'commander';
import { registerServe } from './cli/serve.js';

const program = new Command('ai-monitor')
  .description('Self-hosted, real-time monitoring for AI assistants and agents')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own usage errors exit 1 after printing; help exits 0.
    process.exit(err.exitCode);
  });

registerServe(program);

await program.parseAsync(process.argv);
