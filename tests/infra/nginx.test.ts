/**
 * Static checks of infra/nginx.conf (proxy profile) and infra/nginx.scale.conf (scale
 * profile): balanced braces, WebSocket upgrade headers, long read timeouts, X-Forwarded-For,
 * a 1 MiB body limit, /graphql and / both proxied to port 8765. When nginx is installed,
 * `nginx -t` checks each file for real (upstream host names replaced by 127.0.0.1, since the
 * Compose service names do not resolve here).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(import.meta.dirname, '../..');
const FILES = ['infra/nginx.conf', 'infra/nginx.scale.conf'];

/** Removes comments and quoted strings, keeping line structure. */
function strip(conf: string): string {
  return conf
    .split('\n')
    .map((line) => {
      let out = '';
      let quote: string | null = null;
      for (let i = 0; i < line.length; i++) {
        const c = line[i]!;
        if (quote) {
          if (c === '\\') i++;
          else if (c === quote) quote = null;
          continue;
        }
        if (c === '#') break;
        if (c === '"' || c === "'") {
          quote = c;
          out += '""';
          continue;
        }
        out += c;
      }
      return out;
    })
    .join('\n');
}

interface Block {
  name: string;
  directives: string[][];
  blocks: Block[];
}

/** Parses nginx configuration into nested blocks of directives; throws on unbalanced braces. */
function parseNginx(conf: string): Block {
  const tokens = strip(conf).match(/[{};]|[^\s{};]+/g) ?? [];
  const root: Block = { name: 'main', directives: [], blocks: [] };
  const stack: Block[] = [root];
  let words: string[] = [];
  for (const t of tokens) {
    if (t === '{') {
      const b: Block = { name: words.join(' '), directives: [], blocks: [] };
      stack.at(-1)!.blocks.push(b);
      stack.push(b);
      words = [];
    } else if (t === '}') {
      if (words.length) throw new Error(`directive "${words.join(' ')}" lacks a semicolon`);
      if (stack.length === 1) throw new Error('unbalanced "}"');
      stack.pop();
    } else if (t === ';') {
      stack.at(-1)!.directives.push(words);
      words = [];
    } else words.push(t);
  }
  if (stack.length !== 1) throw new Error(`unclosed block "${stack.at(-1)!.name}"`);
  if (words.length) throw new Error(`trailing "${words.join(' ')}"`);
  return root;
}

const find = (b: Block, name: RegExp): Block[] => b.blocks.filter((x) => name.test(x.name));
const directive = (b: Block, name: string): string[][] => b.directives.filter((d) => d[0] === name).map((d) => d.slice(1));
const header = (b: Block, name: string): string | undefined =>
  directive(b, 'proxy_set_header').find((d) => d[0]!.toLowerCase() === name.toLowerCase())?.[1];
const seconds = (v: string): number => {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v)!;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? 's']!;
};
const sizeBytes = (v: string): number => {
  const m = /^(\d+)([kKmMgG])?$/.exec(v)!;
  return Number(m[1]) * (m[2] ? { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()]! : 1);
};

/** The server's default maximum request / message size, when the source states it. */
function serverMaxPayload(): number | undefined {
  const file = join(ROOT, 'apps/api/src/config/load.ts');
  if (!existsSync(file)) return undefined;
  const m = /maxPayloadBytes:[^\n]*\.default\(([\d\s*_]+)\)/.exec(readFileSync(file, 'utf8'));
  if (!m) return undefined;
  return m[1]!.replace(/_/g, '').split('*').reduce((a, x) => a * Number(x.trim()), 1);
}

const NGINX = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).status === 0;

describe('nginx configuration parser', () => {
  it('finds unbalanced braces and ignores braces in comments and strings', () => {
    expect(() => parseNginx('http { server { }')).toThrow(/unclosed/);
    expect(() => parseNginx('http { } }')).toThrow(/unbalanced/);
    expect(() => parseNginx('http { listen 80 }')).toThrow(/semicolon/);
    const ok = parseNginx('# } {\nhttp { map $a $b { default "}"; } }');
    expect(find(ok, /^http$/)[0]!.blocks[0]!.name).toBe('map $a $b');
  });
});

describe.each(FILES)('%s', (file) => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const conf = parseNginx(text);
  const http = find(conf, /^http$/)[0]!;
  const server = find(http, /^server$/)[0]!;

  it('is a complete nginx.conf with balanced braces (events and http blocks)', () => {
    expect(find(conf, /^events$/)).toHaveLength(1);
    expect(http).toBeDefined();
    expect(server).toBeDefined();
    expect(directive(server, 'listen')[0]).toEqual(['80']);
  });

  it('maps Upgrade to Connection and passes both headers over HTTP/1.1', () => {
    const map = find(http, /^map \$http_upgrade \$connection_upgrade$/)[0]!;
    expect(map, 'map $http_upgrade $connection_upgrade').toBeDefined();
    expect(directive(map, 'default')[0]).toEqual(['upgrade']);
    expect(directive(server, 'proxy_http_version')[0]).toEqual(['1.1']);
    expect(header(server, 'Upgrade')).toBe('$http_upgrade');
    expect(header(server, 'Connection')).toBe('$connection_upgrade');
    expect(header(server, 'X-Forwarded-For')).toBe('$proxy_add_x_forwarded_for');
    expect(header(server, 'Host')).toBe('$host');
    // Locations must not redefine proxy_set_header, or they lose the server-level headers.
    for (const loc of find(server, /^location /)) expect(directive(loc, 'proxy_set_header'), loc.name).toHaveLength(0);
  });

  it('keeps WebSockets open for long (read and send timeouts of at least an hour)', () => {
    expect(seconds(directive(server, 'proxy_read_timeout')[0]![0]!)).toBeGreaterThanOrEqual(3600);
    expect(seconds(directive(server, 'proxy_send_timeout')[0]![0]!)).toBeGreaterThanOrEqual(3600);
  });

  it('limits bodies to 1 MiB, the server limit', () => {
    const limit = sizeBytes(directive(server, 'client_max_body_size')[0]![0]!);
    expect(limit).toBe(1024 * 1024);
    const serverLimit = serverMaxPayload();
    if (serverLimit !== undefined) expect(limit).toBe(serverLimit);
  });

  it('proxies /graphql and / (the seed WebSocket) to the upstream on port 8765', () => {
    const upstreams = find(http, /^upstream /);
    expect(upstreams).toHaveLength(1);
    const name = upstreams[0]!.name.split(' ')[1]!;
    const servers = directive(upstreams[0]!, 'server').map((s) => s[0]!);
    expect(servers.length).toBeGreaterThan(0);
    for (const s of servers) expect(s).toMatch(/^[a-z0-9-]+:8765$/);
    for (const path of ['/graphql', '/']) {
      const loc = find(server, new RegExp(`^location (= )?${path.replace('/', '\\/')}$`))[0];
      expect(loc, `location ${path}`).toBeDefined();
      expect(directive(loc!, 'proxy_pass')[0]).toEqual([`http://${name}`]);
    }
    expect(directive(find(server, /^location \/graphql$/)[0]!, 'proxy_buffering')[0]).toEqual(['off']);
  });

  it.skipIf(!NGINX)('passes `nginx -t`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-nginx-'));
    try {
      mkdirSync(join(dir, 'logs'));
      const local = text
        .replace(/server\s+[a-z0-9-]+:8765/g, 'server 127.0.0.1:8765')
        .replace(/\/var\/log\/nginx\//g, `${dir}/logs/`)
        .replace(/\/var\/run\/nginx\.pid/g, `${dir}/nginx.pid`);
      // A stub mime.types, so the check does not depend on where this nginx keeps its own.
      writeFileSync(join(dir, 'mime.types'), 'types { text/html html; application/javascript js; }\n');
      const confFile = join(dir, 'nginx.conf');
      writeFileSync(confFile, local.replace('/etc/nginx/mime.types', join(dir, 'mime.types')));
      const r = spawnSync('nginx', ['-t', '-q', '-e', join(dir, 'logs/error.log'), '-p', `${dir}/`, '-c', confFile], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
