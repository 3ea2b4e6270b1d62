/** Small HTTP helpers shared by the plain (non-GraphQL) routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}

/** Answers and closes the connection: the rest of the request body is not worth reading. */
export function sendJsonAndClose(res: ServerResponse, status: number, body: unknown): void {
  res.setHeader('connection', 'close');
  sendJson(res, status, body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Reads a request body, refusing (before reading it all) anything over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(`request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop collecting but keep the socket: the caller answers 413 and closes the
        // connection (destroying it here would lose that answer).
        req.off('data', onData);
        req.pause();
        reject(new PayloadTooLargeError(`request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Length check before Yoga: cheaper than Yoga's own body-size plugin on the hot path.
 * A body without Content-Length (chunked) cannot be checked up front, so it counts as too large.
 */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const length = req.headers['content-length'];
  if (length === undefined) return req.headers['transfer-encoding'] !== undefined;
  return !/^\d+$/.test(length) || Number(length) > limit;
}
