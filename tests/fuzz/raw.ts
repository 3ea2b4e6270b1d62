/**
 * Raw sockets for what well-behaved clients cannot send: hand-made WebSocket frames (partial,
 * invalid, cut off) and malformed HTTP requests. Loopback only; every wait is bounded.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A client frame (masked, as RFC 6455 requires of clients unless `mask` is false). */
export function encodeFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; mask?: boolean; rsv?: number } = {}): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

export interface RawConnection {
  socket: Socket;
  /** Everything received so far (after the handshake for WebSocket connections). */
  received(): Buffer;
  /** Resolves when the server closes or resets the connection (true), or after `ms` (false). */
  closedWithin(ms: number): Promise<boolean>;
  /** Resolves true once `check(received())` holds, false after `ms` or when the connection closes first. */
  until(check: (data: Buffer) => boolean, ms: number): Promise<boolean>;
}

function track(socket: Socket, initial: Buffer = Buffer.alloc(0)): RawConnection {
  let data = initial;
  let closed = false;
  const waiters: (() => void)[] = [];
  const watchers = new Set<() => void>();
  socket.on('data', (d: Buffer) => {
    data = Buffer.concat([data, d]);
    for (const w of [...watchers]) w();
  });
  // Resets are expected here; the test judges the server, not this socket.
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
    for (const w of [...watchers]) w();
  });
  return {
    socket,
    received: () => data,
    closedWithin: (ms) =>
      closed
        ? Promise.resolve(true)
        : new Promise((resolve) => {
            const timer = setTimeout(() => resolve(false), ms);
            waiters.push(() => {
              clearTimeout(timer);
              resolve(true);
            });
          }),
    until: (check, ms) =>
      new Promise((resolve) => {
        const settle = (ok: boolean): void => {
          clearTimeout(timer);
          watchers.delete(watch);
          resolve(ok);
        };
        const watch = (): void => {
          if (check(data)) settle(true);
          else if (closed) settle(false);
        };
        const timer = setTimeout(() => settle(false), ms);
        watchers.add(watch);
        watch();
      }),
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('could not connect within 10 s'));
    }, 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Completes a WebSocket handshake by hand; rejects unless the server answers 101. */
export async function rawWebSocket(port: number, path = '/', headers: Record<string, string> = {}): Promise<RawConnection> {
  const socket = await open(port);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${extra}\r\n`,
  );
  const rest = await new Promise<Buffer>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('no handshake answer within 10 s')), 10_000);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const status = buf.subarray(0, buf.indexOf('\r\n')).toString();
      if (!status.includes(' 101 ')) return done(new Error(`handshake refused: ${status}`));
      done(null, buf.subarray(end + 4));
    };
    const done = (err: Error | null, leftover?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(leftover!);
    };
    socket.on('data', onData);
  });
  return track(socket, rest);
}

/** Opens a plain TCP connection to the server and writes `data` (for malformed HTTP). */
export async function rawHttp(port: number, data: Buffer | string): Promise<RawConnection> {
  const socket = await open(port);
  const conn = track(socket);
  socket.write(data);
  return conn;
}

/** The status code of the first HTTP response in `data`, or null when none arrived. */
export function statusOf(data: Buffer): number | null {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 64).toString('latin1'));
  return m ? Number(m[1]) : null;
}

/** The close code of the first close frame the server sent in `data`, or null. */
export function closeCodeOf(data: Buffer): number | null {
  let i = 0;
  while (i + 2 <= data.length) {
    const opcode = data[i]! & 0x0f;
    let len = data[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (off + 2 > data.length) return null;
      len = data.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > data.length) return null;
      len = Number(data.readBigUInt64BE(off));
      off += 8;
    }
    if (opcode === OP.close) return len >= 2 && off + 2 <= data.length ? data.readUInt16BE(off) : 1005;
    i = off + len;
  }
  return null;
}

/** Ends a connection the way a fuzz case chose: a clean FIN, a destroy, or a TCP reset. */
export function hangUp(socket: Socket, how: 'end' | 'destroy' | 'reset'): void {
  if (how === 'end') socket.end();
  else if (how === 'reset') socket.resetAndDestroy();
  else socket.destroy();
}
