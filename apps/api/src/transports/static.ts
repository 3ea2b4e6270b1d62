/** Serves the built dashboard (SvelteKit static build) with a single-page-app fallback. */
import sirv from 'sirv';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** `apps/web/build`, next to this package. */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/build');
}

export function createStaticHandler(dir: string): StaticHandler {
  if (!existsSync(join(dir, 'index.html'))) {
    return (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The dashboard is not built (${dir} has no index.html). Run "npm run build" at the repository root.\n`);
    };
  }
  const serve = sirv(dir, { single: true, etag: true, gzip: false, dev: false, immutable: false });
  return (req, res) => serve(req, res, () => {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
}
