/**
 * IP allow-list: single addresses and CIDR ranges, IPv4 and IPv6, built on node:net's
 * BlockList. IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`, what a dual-stack socket reports
 * for IPv4 clients) are matched as the IPv4 address they carry.
 */
import { BlockList, isIP, isIPv4 } from 'node:net';
import type { IncomingMessage } from 'node:http';

export class AllowListEntryError extends Error {
  override name = 'AllowListEntryError';
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`"${entry}" ${reason}`);
  }
}

export class IpAllowList {
  private constructor(
    private readonly list: BlockList,
    /** False when no entry is configured: every address is allowed. */
    readonly enabled: boolean,
  ) {}

  /** Parses entries such as `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; throws naming the first bad one. */
  static parse(entries: readonly string[]): IpAllowList {
    const list = new BlockList();
    for (const raw of entries) addEntry(list, raw.trim());
    return new IpAllowList(list, entries.length > 0);
  }

  allows(address: string | undefined | null): boolean {
    if (!this.enabled) return true;
    if (!address) return false;
    const ip = normaliseAddress(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function addEntry(list: BlockList, entry: string): void {
  const slash = entry.indexOf('/');
  if (slash === -1) {
    const ip = normaliseAddress(entry);
    const family = isIP(ip);
    if (family === 0) throw new AllowListEntryError(entry, 'is neither an IPv4 nor an IPv6 address');
    list.addAddress(ip, family === 4 ? 'ipv4' : 'ipv6');
    return;
  }
  const ip = normaliseAddress(entry.slice(0, slash));
  const prefixText = entry.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0) throw new AllowListEntryError(entry, 'does not start with an IPv4 or IPv6 address');
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new AllowListEntryError(entry, `has an invalid prefix length (expected 0-${max})`);
  }
  list.addSubnet(ip, Number(prefixText), family === 4 ? 'ipv4' : 'ipv6');
}

/** Strips an IPv6 zone (`%eth0`) and unwraps IPv4-mapped IPv6 addresses. */
export function normaliseAddress(address: string): string {
  const zone = address.indexOf('%');
  const ip = zone === -1 ? address : address.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped && isIPv4(mapped[1]!) ? mapped[1]! : ip;
}

/**
 * The client's address: the socket's peer, or, when a trusted proxy sits in front
 * (trustProxy), the last `X-Forwarded-For` entry — the one that proxy appended; entries
 * before it are whatever the client claimed and are not trusted.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const value = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    if (value) {
      const parts = value.split(',');
      const last = parts[parts.length - 1]!.trim();
      if (last) return last;
    }
  }
  return req.socket.remoteAddress;
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const ip = normaliseAddress(h);
  return isIPv4(ip) && ip.startsWith('127.');
}
