/**
 * Static checks of the Kubernetes manifests in infra/k8s (single instance on SQLite) and
 * infra/k8s/scale (replicas on PostgreSQL + Redis): every document parses and is well-formed,
 * kustomizations list existing files, and the Deployments agree with the image (port 8765,
 * /app/monitoring_data, uid, /health probes) and with their Services, PVC, Secrets and ConfigMap.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { resolve, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const K8S = join(ROOT, 'infra/k8s');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

const ALL = Object.fromEntries(yamlFiles(K8S).map((f) => [relative(K8S, f), load(f)]));
const one = (file: string, kind: string): Doc => {
  const found = (ALL[file] ?? []).filter((d) => d.kind === kind);
  if (found.length !== 1) throw new Error(`${file}: expected one ${kind}, found ${found.length}`);
  return found[0]!;
};

/** The image's runtime user id, from the Dockerfile's last USER. */
function imageUid(): number {
  const users = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^USER\s+(\S+)/gm)];
  return Number(users.at(-1)![1]!.split(':')[0]);
}

function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`bad quantity ${q}`);
  const mult: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

function checkServerPod(dep: Doc): { container: Doc; env: Record<string, any> } {
  const spec = dep.spec.template.spec;
  const container = spec.containers.find((c: Doc) => c.name === 'ai-monitor');
  expect(container, 'container ai-monitor').toBeDefined();
  expect(container.image).toBe('your-registry/ai-monitor:latest');
  // Labels tie the Deployment to its pods.
  for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) expect(dep.spec.template.metadata.labels[k]).toBe(v);

  const port = container.ports.find((p: Doc) => p.name === 'http');
  expect(port.containerPort).toBe(8765);
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const p = container[probe];
    expect(p?.httpGet?.path, `${probe} on /health`).toBe('/health');
    expect([8765, 'http']).toContain(p.httpGet.port);
  }
  expect(bytes(container.resources.limits.memory)).toBeGreaterThan(0);
  expect(bytes(container.resources.limits.memory)).toBeLessThanOrEqual(2 ** 30);

  // Non-root, matching the image's user.
  expect(spec.securityContext.runAsNonRoot).toBe(true);
  expect(spec.securityContext.runAsUser).toBe(imageUid());
  expect(spec.securityContext.fsGroup).toBe(imageUid());
  expect(container.securityContext.allowPrivilegeEscalation).toBe(false);

  const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e.value ?? e.valueFrom]));
  expect(env.AI_MONITOR_PORT).toBe('8765');
  expect(env.AI_MONITOR_HOST).toBe('0.0.0.0');
  expect(env.AI_MONITOR_DATA_DIR).toBe('/app/monitoring_data');
  const dataMount = container.volumeMounts.find((m: Doc) => m.mountPath === env.AI_MONITOR_DATA_DIR);
  expect(dataMount, 'the data directory is a mounted volume').toBeDefined();
  // With a read-only root filesystem, every writable path is a volume.
  if (container.securityContext.readOnlyRootFilesystem) {
    expect(container.volumeMounts.map((m: Doc) => m.mountPath)).toContain('/tmp');
  }
  const volumeNames = spec.volumes.map((v: Doc) => v.name);
  for (const m of container.volumeMounts) expect(volumeNames).toContain(m.name);
  return { container, env };
}

function checkService(svc: Doc, dep: Doc): void {
  expect(svc.spec.type).toBe('LoadBalancer');
  const port = svc.spec.ports[0];
  expect(port.port).toBe(8765);
  expect(port.targetPort).toBe(8765);
  for (const [k, v] of Object.entries(svc.spec.selector)) expect(dep.spec.template.metadata.labels[k], `selector ${k}`).toBe(v);
}

describe('Kubernetes manifests', () => {
  it('every YAML document parses and has apiVersion, kind and metadata.name', () => {
    const files = Object.keys(ALL);
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const [file, docs] of Object.entries(ALL)) {
      expect(docs.length, file).toBeGreaterThan(0);
      for (const d of docs) {
        expect(d.apiVersion, file).toBeTruthy();
        expect(d.kind, file).toBeTruthy();
        if (d.kind !== 'Kustomization') expect(d.metadata?.name, `${file} ${d.kind}`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      }
    }
  });

  it('each kustomization lists existing manifests, and every manifest except examples is listed', () => {
    for (const [file, docs] of Object.entries(ALL)) {
      if (!file.endsWith('kustomization.yaml')) continue;
      const dir = join(K8S, file, '..');
      const k = docs[0]!;
      for (const r of k.resources as string[]) expect(existsSync(join(dir, r)), `${file}: ${r}`).toBe(true);
      const siblings = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && n !== 'kustomization.yaml' && !n.includes('example'));
      expect([...k.resources].sort(), file).toEqual(siblings.sort());
      expect(k.images?.[0]?.name).toBe(file.startsWith('scale/dev-deps') ? undefined : 'your-registry/ai-monitor');
    }
  });

  describe('single instance (infra/k8s)', () => {
    const dep = one('deployment.yaml', 'Deployment');

    it('Deployment ai-monitor: one replica, Recreate (SQLite has one writer)', () => {
      expect(dep.metadata.name).toBe('ai-monitor');
      expect(dep.spec.replicas).toBe(1);
      expect(dep.spec.strategy.type).toBe('Recreate');
    });

    it('pod: port 8765, /health probes, memory limit, non-root, data directory mounted', () => {
      checkServerPod(dep);
    });

    it('the data volume is the PVC ai-monitor-data, mounted at /app/monitoring_data', () => {
      const pvc = one('pvc.yaml', 'PersistentVolumeClaim');
      expect(pvc.metadata.name).toBe('ai-monitor-data');
      expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
      const spec = dep.spec.template.spec;
      const vol = spec.volumes.find((v: Doc) => v.persistentVolumeClaim);
      expect(vol.persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
      const mount = spec.containers[0].volumeMounts.find((m: Doc) => m.name === vol.name);
      expect(mount.mountPath).toBe('/app/monitoring_data');
    });

    it('Service: LoadBalancer on 8765, selecting the pods', () => {
      const svc = one('service.yaml', 'Service');
      expect(svc.metadata.name).toBe('ai-monitor');
      checkService(svc, dep);
    });

    it('the optional token Secret matches envFrom and uses server variable names', () => {
      const secret = one('secret.example.yaml', 'Secret');
      const ref = dep.spec.template.spec.containers[0].envFrom[0].secretRef;
      expect(ref.name).toBe(secret.metadata.name);
      expect(ref.optional).toBe(true);
      for (const key of Object.keys(secret.stringData)) expect(key).toMatch(/^AI_MONITOR_[A-Z_]+$/);
    });
  });

  describe('scale-out (infra/k8s/scale)', () => {
    const dep = one('scale/deployment.yaml', 'Deployment');

    it('Deployment: 3 replicas, RollingUpdate without unavailability', () => {
      expect(dep.spec.replicas).toBe(3);
      expect(dep.spec.strategy.type).toBe('RollingUpdate');
      expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    });

    it('pod: PostgreSQL storage and Redis from the Secret, no PVC', () => {
      const { env } = checkServerPod(dep);
      expect(env.AI_MONITOR_STORAGE).toBe('postgres');
      const secret = one('scale/secret.example.yaml', 'Secret');
      for (const name of ['AI_MONITOR_DATABASE_URL', 'AI_MONITOR_REDIS_URL']) {
        const ref = env[name]?.secretKeyRef;
        expect(ref?.name, name).toBe(secret.metadata.name);
        expect(Object.keys(secret.stringData), name).toContain(ref.key);
      }
      expect(new URL(secret.stringData['database-url']).protocol).toBe('postgres:');
      expect(new URL(secret.stringData['redis-url']).protocol).toBe('redis:');
      const spec = dep.spec.template.spec;
      expect(spec.volumes.some((v: Doc) => v.persistentVolumeClaim), 'no PVC').toBe(false);
    });

    it('every replica starts from the ConfigMap alert rules (the seed fields)', () => {
      const cm = one('scale/configmap.yaml', 'ConfigMap');
      const rules = JSON.parse(cm.data['alert_config.json']) as Record<string, unknown>;
      for (const k of [
        'error_rate_threshold',
        'response_time_threshold',
        'consecutive_errors_threshold',
        'alert_cooldown_minutes',
        'enabled',
        'webhook_url',
        'email_notifications',
      ]) {
        expect(rules, k).toHaveProperty(k);
      }
      const spec = dep.spec.template.spec;
      const vol = spec.volumes.find((v: Doc) => v.configMap);
      expect(vol.configMap.name).toBe(cm.metadata.name);
      const init = spec.initContainers[0];
      const cfgMount = init.volumeMounts.find((m: Doc) => m.name === vol.name).mountPath;
      const dataMount = init.volumeMounts.find((m: Doc) => m.mountPath === '/app/monitoring_data');
      expect(dataMount).toBeDefined();
      expect(init.command.join(' ')).toContain(`${cfgMount}/alert_config.json /app/monitoring_data/alert_config.json`);
    });

    it('Service and PodDisruptionBudget select the replicas', () => {
      checkService(one('scale/service.yaml', 'Service'), dep);
      const pdb = one('scale/pdb.yaml', 'PodDisruptionBudget');
      for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
    });

    it('trial dependencies answer at the hosts the example Secret names', () => {
      const secret = one('scale/secret.example.yaml', 'Secret');
      const services = Object.entries(ALL)
        .filter(([f]) => f.startsWith('scale/dev-deps/'))
        .flatMap(([, docs]) => docs.filter((d) => d.kind === 'Service'));
      const byName = Object.fromEntries(services.map((s) => [s.metadata.name, s]));
      for (const key of ['database-url', 'redis-url']) {
        const url = new URL(secret.stringData[key]);
        const svc = byName[url.hostname];
        expect(svc, `${key} host ${url.hostname}`).toBeDefined();
        expect(svc.spec.ports[0].port).toBe(Number(url.port));
      }
      const pg = one('scale/dev-deps/postgres.yaml', 'Secret').stringData;
      const db = new URL(secret.stringData['database-url']);
      expect(db.username).toBe(pg.POSTGRES_USER);
      expect(db.password).toBe(pg.POSTGRES_PASSWORD);
      expect(db.pathname.slice(1)).toBe(pg.POSTGRES_DB);
    });
  });
});
