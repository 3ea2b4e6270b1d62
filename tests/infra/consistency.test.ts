/**
 * Cross-file agreement of the deployment files: one port (8765) and one data directory
 * (/app/monitoring_data in containers) everywhere, the server's own defaults, every
 * AI_MONITOR_* variable the deployment files set is one the server (or the infra scripts)
 * reads, and no file names a path of the machine it was written on.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { resolve, join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((n) => {
    const p = join(dir, n);
    return statSync(join(ROOT, p)).isDirectory() ? files(p) : [p];
  });
}
const DEPLOY_FILES = ['Dockerfile', '.dockerignore', ...files('infra')];

/** Variables the deployment files may use that are theirs, not the server's. */
const INFRA_ONLY = new Set([
  'AI_MONITOR_UID',
  'AI_MONITOR_GID',
  'AI_MONITOR_PG_PASSWORD',
  'AI_MONITOR_SCALE_PORT',
  'AI_MONITOR_BACKUP_DIR',
  'AI_MONITOR_BACKUP_KEEP_DAYS',
  'AI_MONITOR_BACKUP_METHOD',
  'AI_MONITOR_BIN',
  'AI_MONITOR_ENV_FILE',
  'AI_MONITOR_HEALTHCHECK_URL',
  'AI_MONITOR_HEALTHCHECK_TIMEOUT_MS',
]);

const LOAD_TS = join(ROOT, 'apps/api/src/config/load.ts');
const loadTs = existsSync(LOAD_TS) ? readFileSync(LOAD_TS, 'utf8') : '';

describe('deployment files agree with each other and with the server', () => {
  it('the server defaults to port 8765 and the data directory monitoring_data', () => {
    if (!loadTs) return;
    expect(loadTs).toMatch(/port:[^\n]*\.default\(8765\)/);
    expect(loadTs).toMatch(/dataDir:[^\n]*\.default\('monitoring_data'\)/);
  });

  it('port 8765 everywhere: image, Compose, Kubernetes, nginx, systemd, health check', () => {
    const claims: Array<[string, string | number | undefined]> = [];
    const docker = read('Dockerfile');
    claims.push(['Dockerfile EXPOSE', /^EXPOSE\s+(\d+)/m.exec(docker)?.[1]]);
    claims.push(['Dockerfile ENV AI_MONITOR_PORT', /AI_MONITOR_PORT=(\d+)/.exec(docker)?.[1]]);

    const compose = parse(read('infra/docker-compose.yml'), { merge: true }) as {
      services: Record<string, { ports?: string[]; expose?: string[]; environment?: Record<string, string> }>;
    };
    claims.push(['compose ai-monitor port', compose.services['ai-monitor']!.ports![0]!.split(':').at(-1)]);
    for (const name of ['ai-monitor', 'ai-monitor-1', 'ai-monitor-2']) {
      claims.push([`compose ${name} AI_MONITOR_PORT`, compose.services[name]!.environment!.AI_MONITOR_PORT]);
    }
    for (const name of ['ai-monitor-1', 'ai-monitor-2']) claims.push([`compose ${name} expose`, compose.services[name]!.expose![0]]);

    for (const file of ['infra/k8s/deployment.yaml', 'infra/k8s/scale/deployment.yaml', 'infra/k8s/service.yaml', 'infra/k8s/scale/service.yaml']) {
      for (const doc of parseAllDocuments(read(file)).map((d) => d.toJS() as Record<string, any>)) {
        if (doc.kind === 'Deployment') {
          const c = doc.spec.template.spec.containers[0];
          claims.push([`${file} containerPort`, c.ports[0].containerPort]);
          claims.push([`${file} AI_MONITOR_PORT`, c.env.find((e: any) => e.name === 'AI_MONITOR_PORT').value]);
          claims.push([`${file} prometheus.io/port`, doc.spec.template.metadata.annotations['prometheus.io/port']]);
        }
        if (doc.kind === 'Service') {
          claims.push([`${file} port`, doc.spec.ports[0].port]);
          claims.push([`${file} targetPort`, doc.spec.ports[0].targetPort]);
        }
      }
    }
    for (const file of ['infra/nginx.conf', 'infra/nginx.scale.conf']) {
      for (const m of read(file).matchAll(/^\s*server\s+[\w.-]+:(\d+)/gm)) claims.push([`${file} upstream`, m[1]]);
    }
    claims.push(['systemd AI_MONITOR_PORT', /AI_MONITOR_PORT=(\d+)/.exec(read('infra/systemd/ai-monitor.service'))?.[1]]);
    claims.push(['healthcheck default', /AI_MONITOR_PORT \|\| '(\d+)'/.exec(read('infra/docker/healthcheck.mjs'))?.[1]]);

    expect(claims.length).toBeGreaterThan(15);
    for (const [where, port] of claims) expect(String(port), where).toBe('8765');
  });

  it('one data directory: /app/monitoring_data in containers, monitoring_data beside the app on hosts', () => {
    const docker = read('Dockerfile');
    expect(/AI_MONITOR_DATA_DIR=(\S+)/.exec(docker)?.[1]).toBe('/app/monitoring_data');
    expect(/^VOLUME\s+(\S+)/m.exec(docker)?.[1]).toBe('/app/monitoring_data');
    const compose = read('infra/docker-compose.yml');
    for (const m of compose.matchAll(/^\s*-\s*\S+:(\/app\/[^\s:]+)/gm)) expect(m[1]).toBe('/app/monitoring_data');
    for (const m of compose.matchAll(/AI_MONITOR_DATA_DIR:\s*(\S+)/g)) expect(m[1]).toBe('/app/monitoring_data');
    for (const file of ['infra/k8s/deployment.yaml', 'infra/k8s/scale/deployment.yaml']) {
      const text = read(file);
      expect([...text.matchAll(/mountPath:\s*(\/app\/\S+)/g)].map((m) => m[1])).toContain('/app/monitoring_data');
      expect(/name: AI_MONITOR_DATA_DIR\s+value:\s*(\S+)/.exec(text)?.[1]).toBe('/app/monitoring_data');
    }
    // Host installs: /opt/ai-monitor/monitoring_data (systemd) = monitoring_data beside infra/ (backup.sh).
    expect(read('infra/systemd/ai-monitor.service')).toMatch(/^Environment=AI_MONITOR_DATA_DIR=\/opt\/ai-monitor\/monitoring_data$/m);
    expect(read('infra/backup.sh')).toContain('$repo_root/monitoring_data');
  });

  it('every AI_MONITOR_* variable the deployment files use is one the server or the scripts read', () => {
    const used = new Set<string>();
    for (const f of DEPLOY_FILES) for (const m of read(f).matchAll(/\bAI_MONITOR_[A-Z0-9_]*[A-Z0-9]\b/g)) used.add(m[0]);
    expect(used.size).toBeGreaterThan(10);
    if (!loadTs) return;
    const known = new Set([...loadTs.matchAll(/\b(AI_MONITOR_[A-Z0-9_]+)\b/g)].map((m) => m[1]!));
    const unknown = [...used].filter((v) => !known.has(v) && !INFRA_ONLY.has(v)).sort();
    expect(unknown, 'variables no code reads (typos?)').toEqual([]);
  });

  it('names no path of the machine it was written on', () => {
    for (const f of DEPLOY_FILES) {
      const text = read(f);
      expect(text, f).not.toMatch(/\/work\/|\/root\/|\/home\/[a-z]|\/tmp\/bash_jobs/);
      expect(relative(ROOT, join(ROOT, f)).startsWith('..')).toBe(false);
    }
  });
});
