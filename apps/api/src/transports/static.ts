/** Serves the built dashboard (SvelteKit static build) with a single-page-app fallback. */
import sirv from 'sirv';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.js';

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** `apps/web/build`, next to this package. */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/build');
}

export function createStaticHandler(dir: string, logger: Logger): StaticHandler {
  if (!existsSync(join(dir, 'index.html'))) {
    return (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The dashboard is not built (${dir} has no index.html). Run "npm run build" at the repository root.\n`);
    };
  }
  const serve = sirv(dir, { single: true, etag: true, gzip: false, dev: false, immutable: false });
  return (req, res) => {
    // sirv throws (synchronously, in this handler) on a reversed range such as `bytes=9-1`;
    // the dashboard needs no ranges, and ignoring the header is allowed (RFC 9110 14.2).
    delete req.headers.range;
    // sirv pipes a file stream into the response without an 'error' listener: a file removed
    // since start (the dashboard rebuilt under a running server) would stop the process.
    res.once('pipe', (src: Readable) => {
      src.on('error', (err: Error) => {
        logger.warn({ err }, `cannot read a dashboard file (rebuilt while the server runs? restart it): ${err.message}`);
        res.destroy();
      });
    });
    serve(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    });
  };
}
