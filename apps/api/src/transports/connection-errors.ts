/**
 * Error paths of the listening server and of connections before a request handler or a
 * WebSocket owns them. Each is handled where it arises: an 'error' event nobody listens to
 * stops the whole process, whoever the client was.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';

/** Node's HTTP parser codes, and the answer each gets (as Node answers without a listener). */
const CLIENT_ERROR_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/** What the client did wrong, in words (the parser's code alone means little to a user). */
function clientErrorText(err: NodeJS.ErrnoException & { reason?: string }): string {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'request headers are too large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'the request was not completed in time';
  return `malformed HTTP request: ${err.reason ?? err.message} (${err.code ?? 'unknown'})`;
}

/** Sockets already being closed after a client error (the parser may report more than one). */
const closing = new WeakSet<Duplex>();

/**
 * 'clientError': the parser refused a request (or the connection failed before one arrived).
 * Answers 400/408/413/431 with a JSON body naming the problem when the socket can still take
 * it, then closes the connection. When the error is in a pipelined request after one whose
 * response is under way, that response finishes first and the connection closes after it.
 */
export function answerClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex, logger: Logger): void {
  if (closing.has(socket)) return;
  closing.add(socket);
  // A reset or a closed socket has nobody to answer.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  // Node keeps the response being written on the socket here (its own default handler reads it too).
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    // The broken request is the one being answered, and its answer has begun: nothing to add.
    if (!inFlight.req.complete && inFlight.headersSent) {
      socket.destroy();
      return;
    }
    // The error is in a pipelined request after a complete one: that one's answer goes first.
    if (inFlight.req.complete) {
      inFlight.once('finish', () => refuse(err, socket, logger));
      inFlight.once('close', () => socket.destroy());
      return;
    }
  }
  refuse(err, socket, logger);
}

function refuse(err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex, logger: Logger): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text] = CLIENT_ERROR_STATUS[err.code ?? ''] ?? [400, 'Bad Request'];
  const body = JSON.stringify({ error: clientErrorText(err) });
  logger.debug({ code: err.code, status }, 'refused a malformed HTTP request');
  // The server's sockets allow half-open connections: close fully once the answer is out.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Handlers for the listening server's own error paths. */
export function guardServerErrors(server: Server, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, logger));
  // TLS handshakes that fail (a plain-HTTP client, a bad certificate): Node closes the socket.
  server.on('tlsClientError', (err: Error, tlsSocket: Duplex) => {
    logger.debug({ err }, 'TLS handshake failed');
    tlsSocket.destroy();
  });
}

/**
 * After listening, the server still emits 'error' when accepting a connection fails (for
 * example EMFILE: out of file descriptors). It keeps listening; log it so the cause shows.
 */
export function logServerErrorsAfterListen(server: Server, logger: Logger): void {
  server.on('error', (err: Error) => logger.error({ err }, `the server could not accept a connection: ${err.message}`));
}

/**
 * The raw socket of an upgrade request has no 'error' listener until ws takes it over (Node
 * removes its own): a client that resets while it is being refused would stop the process.
 */
export function guardUpgradeSocket(socket: Duplex, logger: Logger): void {
  socket.on('error', (err: Error) => {
    logger.debug({ err }, 'WebSocket upgrade connection failed');
    socket.destroy();
  });
}
