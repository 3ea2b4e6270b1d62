/**
 * graphql-ws on `ws` sockets. Like graphql-ws's own `useServer`, but a send does not wait for
 * the socket's write callback: waiting serialises every subscriber behind one write per event
 * loop turn, which caps fan-out far below what the sockets can carry. Instead, a subscriber
 * whose unsent backlog passes `maxBufferedBytes` is closed (4008), so a client that stops
 * reading cannot grow the server's memory; graphql-ws clients reconnect and re-query.
 */
import { CloseCode, handleProtocols, makeServer, MessageType, type ServerOptions } from 'graphql-ws';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log/logger.js';
import { SOCKET_UNSENT_LIMIT_BYTES, unsentOverLimit } from '../pubsub/backpressure.js';

export interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
}

export interface SocketOptions {
  logger: Logger;
  /** Ping interval; a client that does not answer within it is dropped. */
  keepAliveMs?: number;
  /** Unsent bytes a subscriber may accumulate before it is closed as too slow (SOCKET_UNSENT_LIMIT_BYTES). */
  maxBufferedBytes?: number;
}

export const SLOW_CONSUMER_CLOSE = 4008;

/** Types only a server sends: graphql-ws throws on them as if the server failed (4500). */
const SERVER_ONLY_TYPES: ReadonlySet<unknown> = new Set([MessageType.ConnectionAck, MessageType.Next, MessageType.Error]);

/** A close reason may carry at most 123 bytes; ws throws on more (graphql-ws puts client ids in some). */
export function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(`${cut}...`) > 123) cut = cut.slice(0, -1);
  // Do not end on half a surrogate pair.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** The type of a client message that only a server may send, or null (graphql-ws judges the rest). */
function serverOnlyType(text: string): string | null {
  if (!text.includes('"type"')) return null;
  try {
    const type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    return SERVER_ONLY_TYPES.has(type) ? String(type) : null;
  } catch {
    return null; // not JSON: graphql-ws refuses it with 4400 itself
  }
}

/**
 * Holds a socket's writes until the end of this tick, so the many messages one commit fans
 * out to a subscriber leave in one system call instead of one each.
 */
function corkUntilNextTick(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: import('node:net').Socket })._socket;
  if (!raw || raw.writableCorked > 0) return;
  raw.cork();
  process.nextTick(() => raw.uncork());
}

export function serveGraphqlWs(
  options: ServerOptions<Record<string, unknown> | undefined, Extra>,
  wss: WebSocketServer,
  opts: SocketOptions,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  const keepAlive = opts.keepAliveMs ?? 12_000;
  const maxBuffered = opts.maxBufferedBytes ?? SOCKET_UNSENT_LIMIT_BYTES;
  wss.options.handleProtocols = handleProtocols;

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // 'on', not 'once': a second error event with no listener would stop the process.
    socket.on('error', (err) => {
      opts.logger.warn({ err }, 'graphql-ws socket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    const ping = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      const deadline = setTimeout(() => socket.terminate(), keepAlive);
      socket.once('pong', () => clearTimeout(deadline));
      socket.ping();
    }, keepAlive);

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState !== socket.OPEN) return;
          if (unsentOverLimit(socket, maxBuffered)) {
            opts.logger.warn({ buffered: socket.bufferedAmount }, 'closing a graphql-ws subscriber that does not read');
            socket.close(SLOW_CONSUMER_CLOSE, 'slow consumer: too many unsent messages');
            return;
          }
          corkUntilNextTick(socket);
          socket.send(data);
        },
        close: (code, reason) => socket.close(code, fitCloseReason(reason ?? '')),
        onMessage: (cb) =>
          socket.on('message', (event) => {
            const text = String(event);
            const wrongWay = serverOnlyType(text);
            if (wrongWay) {
              socket.close(CloseCode.BadRequest, `Unexpected message of type ${wrongWay} received; clients send connection_init, subscribe, complete, ping or pong`);
              return;
            }
            cb(text).catch((err: unknown) => {
              opts.logger.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request },
    );

    socket.once('close', (code, reason) => {
      clearInterval(ping);
      void closed(code, String(reason));
    });
  });

  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, 'Going away');
    },
  };
}
