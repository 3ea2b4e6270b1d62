/**
 * Static checks of infra/docker-compose.yml: it parses (with its anchors and merge keys), the
 * server service matches the seed (port, volume, restart) and the Dockerfile (health check,
 * data directory), the proxy and scale profiles are wired to existing nginx configurations
 * and to each other, and every ${VAR} has a default and is documented in infra/.env.example.
 * When a Compose v2 binary is installed, `docker compose config` validates the file as well.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { resolve, join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const INFRA = join(ROOT, 'infra');
const COMPOSE_FILE = join(INFRA, 'docker-compose.yml');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  profiles?: string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  healthcheck?: { test: string[] };
  user?: string;
  command?: string[];
}
interface Compose {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(composeText, { merge: true }) as Compose;
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`service ${name} missing`);
  return s;
};

/** Docker's HEALTHCHECK CMD from the Dockerfile, as an array. */
function dockerfileHealthcheck(): string[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ');
  const m = /^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/m.exec(text);
  if (!m) throw new Error('no HEALTHCHECK CMD [...] in the Dockerfile');
  return JSON.parse(m[1]!) as string[];
}

/** Container side of a "host:container" or "ip:host:container" port mapping. */
const containerPort = (p: string): string => p.split(':').at(-1)!.split('/')[0]!;

function composeBinary(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0 && /v?2\.\d+/.test(r.stdout)) return cmd;
  }
  return undefined;
}
const COMPOSE_BIN = composeBinary();

describe('docker-compose.yml', () => {
  it('parses, and names the project', () => {
    expect(compose.name).toBe('ai-monitor');
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['ai-monitor', 'nginx', 'postgres', 'redis', 'ai-monitor-1', 'ai-monitor-2']),
    );
    expect(composeText, 'the obsolete "version" key is left out').not.toMatch(/^version:/m);
  });

  it('service ai-monitor: built from the repository root, port 8765, the seed volume, restart unless-stopped', () => {
    const s = svc('ai-monitor');
    expect(s.profiles, 'starts without a profile').toBeUndefined();
    const build = s.build as { context: string; dockerfile: string };
    expect(resolve(INFRA, build.context)).toBe(ROOT);
    expect(existsSync(join(resolve(INFRA, build.context), build.dockerfile ?? 'Dockerfile'))).toBe(true);
    expect(s.ports).toContain('8765:8765');
    expect(s.volumes).toContain('./monitoring_data:/app/monitoring_data');
    expect(s.restart).toBe('unless-stopped');
    expect(s.environment?.AI_MONITOR_DATA_DIR).toBe('/app/monitoring_data');
    expect(s.environment?.AI_MONITOR_PORT).toBe('8765');
    expect(s.environment?.AI_MONITOR_HOST).toBe('0.0.0.0');
    expect(s.environment?.AI_MONITOR_STORAGE).toBe('sqlite');
  });

  it('health checks run the same script as the Dockerfile HEALTHCHECK', () => {
    const image = dockerfileHealthcheck();
    for (const name of ['ai-monitor', 'ai-monitor-1', 'ai-monitor-2']) {
      const test = svc(name).healthcheck?.test;
      expect(test?.[0]).toBe('CMD');
      expect(test?.slice(1), name).toEqual(image);
    }
  });

  it('the one-shot init service makes the bind mount writable for the user the server runs as', () => {
    const init = svc('ai-monitor-init');
    expect(init.volumes).toEqual(svc('ai-monitor').volumes);
    const chown = /chown -R (\S+) \/app\/monitoring_data/.exec(init.command!.join(' '));
    expect(chown?.[1]).toBe(svc('ai-monitor').user);
    expect(svc('ai-monitor').depends_on?.['ai-monitor-init']?.condition).toBe('service_completed_successfully');
  });

  it('profile proxy: nginx on port 80 with infra/nginx.conf, after the server is healthy', () => {
    const n = svc('nginx');
    expect(n.profiles).toEqual(['proxy']);
    expect(n.ports).toContain('80:80');
    const mount = n.volumes!.find((v) => v.includes('/etc/nginx/'))!;
    expect(mount.split(':')[0]).toBe('./nginx.conf');
    expect(existsSync(join(INFRA, 'nginx.conf'))).toBe(true);
    expect(n.depends_on?.['ai-monitor']?.condition).toBe('service_healthy');
  });

  it('profile scale: PostgreSQL, Redis and two replicas behind nginx', () => {
    for (const name of ['postgres', 'redis', 'ai-monitor-1', 'ai-monitor-2', 'ai-monitor-lb']) {
      expect(svc(name).profiles, name).toEqual(['scale']);
    }
    for (const name of ['ai-monitor-1', 'ai-monitor-2']) {
      const r = svc(name);
      const env = r.environment!;
      expect(env.AI_MONITOR_STORAGE).toBe('postgres');
      const db = new URL(env.AI_MONITOR_DATABASE_URL!.replace(/\$\{[^}]*\}/g, 'x'));
      expect(db.protocol).toBe('postgres:');
      expect(services[db.hostname], `database host ${db.hostname} is a service`).toBeDefined();
      expect(db.port).toBe('5432');
      const redis = new URL(env.AI_MONITOR_REDIS_URL!);
      expect(redis.protocol).toBe('redis:');
      expect(services[redis.hostname], `redis host ${redis.hostname} is a service`).toBeDefined();
      expect(r.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(r.depends_on?.redis?.condition).toBe('service_healthy');
      expect(r.ports, 'replicas are reached through the load balancer only').toBeUndefined();
      expect(r.expose).toContain('8765');
      expect(env.AI_MONITOR_TRUST_PROXY).toBe('true');
      expect(r.volumes!.map((v) => v.split(':')[1])).toContain('/app/monitoring_data');
    }
    // The replicas' database credentials match PostgreSQL's own.
    const pg = svc('postgres').environment!;
    const db = new URL(svc('ai-monitor-1').environment!.AI_MONITOR_DATABASE_URL!.replace(/\$\{[^}]*\}/g, 'x'));
    expect(db.username).toBe(pg.POSTGRES_USER);
    expect(db.pathname.slice(1)).toBe(pg.POSTGRES_DB);
    expect(svc('ai-monitor-1').environment!.AI_MONITOR_DATABASE_URL).toContain(pg.POSTGRES_PASSWORD);
    expect(svc('postgres').healthcheck).toBeDefined();
    expect(svc('redis').healthcheck).toBeDefined();

    const lb = svc('ai-monitor-lb');
    const mount = lb.volumes!.find((v) => v.includes('/etc/nginx/'))!;
    const conf = mount.split(':')[0]!;
    expect(conf).toBe('./nginx.scale.conf');
    const text = readFileSync(join(INFRA, conf), 'utf8');
    const upstream = [...text.matchAll(/^\s*server\s+([\w.-]+):(\d+)\b/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(upstream.sort()).toEqual(['ai-monitor-1:8765', 'ai-monitor-2:8765']);
    expect(lb.depends_on?.['ai-monitor-1']?.condition).toBe('service_healthy');
    expect(lb.depends_on?.['ai-monitor-2']?.condition).toBe('service_healthy');
    expect(containerPort(lb.ports![0]!)).toBe('80');
  });

  it('host ports do not collide between the profiles', () => {
    const published = Object.values(services)
      .flatMap((s) => s.ports ?? [])
      .map((p) => p.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').split(':').slice(-2)[0]!);
    expect(new Set(published).size).toBe(published.length);
  });

  it('every reference resolves: depends_on services, named volumes, mounted files', () => {
    const named = Object.keys(compose.volumes ?? {});
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.') || src.startsWith('/')) {
          if (src === './monitoring_data') continue; // created at first start
          expect(existsSync(resolve(INFRA, src)), `${name} mounts ${src}`).toBe(true);
        } else {
          expect(named, `${name} uses named volume ${src}`).toContain(src);
        }
      }
      // A dependency on health needs a health check (the service's or the image's).
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        if (cond.condition === 'service_healthy') expect(services[dep]!.healthcheck, `${dep} has a healthcheck`).toBeDefined();
      }
    }
  });

  it('every ${VAR} has a default and is documented in infra/.env.example', () => {
    const vars = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)];
    expect(vars.length).toBeGreaterThan(5);
    const example = readFileSync(join(INFRA, '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    for (const [, name, rest] of vars) {
      expect(rest, `\${${name}} has a default (:-), so Compose runs without a .env`).toMatch(/^:-/);
      expect(documented.has(name!), `${name} is in infra/.env.example`).toBe(true);
    }
  });

  it.skipIf(!COMPOSE_BIN)('`docker compose config` accepts the file in every profile', () => {
    for (const profile of [[], ['--profile', 'proxy'], ['--profile', 'scale']]) {
      const r = spawnSync(COMPOSE_BIN![0]!, [...COMPOSE_BIN!.slice(1), '-f', COMPOSE_FILE, ...profile, 'config', '--quiet'], {
        cwd: dirname(COMPOSE_FILE),
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
    }
  });
});
