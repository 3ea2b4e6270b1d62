#!/usr/bin/env node
// The `ai-monitor` command. This file is committed (not built) so that `npm install` can link
// it before the first build, and a rebuild never rewrites it (nor drops its execute bit).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('ai-monitor: the command line is not built yet: run "npm run build" first (in the repository root)\n');
  process.exit(2);
}
await import(cli.href);
