/**
 * Static checks of the top-level Dockerfile and .dockerignore (no Docker engine needed):
 * a small Dockerfile parser, then checks that every COPY source exists (in the repository,
 * or as an output of `npm ci` / `turbo run build` in the build stage), that the workspace
 * manifests are in place before `npm ci`, and that CMD, ENV, VOLUME, EXPOSE, USER and
 * HEALTHCHECK match the built layout. The health-check script itself is run against stub
 * servers.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { resolve, join, posix } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

const ROOT = resolve(import.meta.dirname, '../..');
const rel = (p: string): string => join(ROOT, p);

// ---------------------------------------------------------------------------------------------
// A small Dockerfile parser: directives, comments, line continuations, JSON (exec) and shell
// forms, --flags, stages.
// ---------------------------------------------------------------------------------------------
interface Instruction {
  keyword: string;
  /** Everything after the keyword and its --flags, continuations joined. */
  args: string;
  flags: Record<string, string>;
  /** Exec form (a JSON array), when the arguments are one. */
  json?: string[];
  line: number;
}
interface Stage {
  index: number;
  name?: string;
  base: string;
  instructions: Instruction[];
}
interface Dockerfile {
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const logical: Array<{ text: string; line: number }> = [];
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (buf === '' && (trimmed === '' || trimmed.startsWith('#'))) continue; // comment / directive / blank
    if (buf !== '' && trimmed.startsWith('#')) continue; // comment inside a continuation
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      buf += raw.replace(/\\\s*$/, '') + ' ';
      continue;
    }
    buf += raw;
    logical.push({ text: buf.trim(), line: start });
    buf = '';
  }
  if (buf.trim() !== '') throw new Error(`line ${start}: continuation runs past the end of the file`);

  const df: Dockerfile = { globalArgs: {}, stages: [] };
  for (const { text: l, line } of logical) {
    const m = /^([A-Za-z]+)\s*(.*)$/.exec(l);
    if (!m) throw new Error(`line ${line}: cannot parse "${l}"`);
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!;
    const flags: Record<string, string> = {};
    // --flags come first (COPY --from=, HEALTHCHECK --interval=, RUN --mount=...).
    for (;;) {
      const f = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
      if (!f) break;
      flags[f[1]!] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
    const ins: Instruction = { keyword, args: rest, flags, line };
    if (rest.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(rest);
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) ins.json = parsed as string[];
      } catch {
        /* shell form that happens to start with [ */
      }
    }
    if (keyword === 'FROM') {
      const fm = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!fm) throw new Error(`line ${line}: bad FROM "${rest}"`);
      df.stages.push({ index: df.stages.length, base: fm[1]!, ...(fm[2] ? { name: fm[2] } : {}), instructions: [] });
      continue;
    }
    const stage = df.stages.at(-1);
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`line ${line}: ${keyword} before the first FROM`);
      const [k, v] = rest.split('=', 2) as [string, string | undefined];
      df.globalArgs[k.trim()] = v?.trim();
      continue;
    }
    stage.instructions.push(ins);
  }
  return df;
}

/** Splits `A=1 B="two words"` (ENV / LABEL / ARG) into pairs. */
function keyValues(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_.\-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) {
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** COPY/ADD sources and destination, exec or shell form. */
function copyParts(ins: Instruction): { sources: string[]; dest: string } {
  const parts = ins.json ?? ins.args.split(/\s+/).filter(Boolean);
  if (parts.length < 2) throw new Error(`line ${ins.line}: ${ins.keyword} needs a source and a destination`);
  return { sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

function expandArgs(s: string, args: Record<string, string | undefined>): string {
  return s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => args[name] ?? '');
}

/** Minimal .dockerignore matcher (patterns relative to the context, `**`, `*`, `!`). */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pat = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      const re = pat
        .split('/')
        .map((seg) =>
          seg === '**' ? '(?:.*)' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      // A pattern matching a directory excludes everything under it.
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path: string) => {
    const p = posix.normalize(path).replace(/^\.\/+/, '').replace(/\/+$/, '');
    let excluded = false;
    for (const r of rules) if (r.re.test(p)) excluded = !r.negate;
    return excluded;
  };
}

const dockerfileText = readFileSync(rel('Dockerfile'), 'utf8');
const df = parseDockerfile(dockerfileText);
const rootPkg = JSON.parse(readFileSync(rel('package.json'), 'utf8')) as {
  workspaces: string[];
  packageManager?: string;
};
const buildStage = df.stages.find((s) => s.name === 'build')!;
const runtime = df.stages.at(-1)!;
const only = (s: Stage, kw: string): Instruction[] => s.instructions.filter((i) => i.keyword === kw);

/** Paths (relative to /app) the build stage produces itself rather than copying in. */
const BUILD_OUTPUTS = [
  /^node_modules(\/|$)/,
  /^apps\/api\/dist(\/|$)/,
  /^apps\/web\/build(\/|$)/,
  /^packages\/[^/]+\/dist(\/|$)/,
];

describe('Dockerfile parser', () => {
  it('handles continuations, comments inside them, flags and exec form', () => {
    const parsed = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'ARG BASE=node:22-bookworm-slim',
        'FROM ${BASE} AS one',
        'RUN echo a \\',
        '# a comment inside',
        ' && echo b',
        'COPY --from=one --chown=1:1 /a /b',
        'CMD ["node", "x.js"]',
      ].join('\n'),
    );
    expect(parsed.globalArgs).toEqual({ BASE: 'node:22-bookworm-slim' });
    expect(parsed.stages).toHaveLength(1);
    const [run, copy, cmd] = parsed.stages[0]!.instructions;
    expect(run!.args).toBe('echo a   && echo b');
    expect(copy!.flags).toEqual({ from: 'one', chown: '1:1' });
    expect(copyParts(copy!)).toEqual({ sources: ['/a'], dest: '/b' });
    expect(cmd!.json).toEqual(['node', 'x.js']);
    expect(keyValues('A=1 B="two words" C=\'x\'')).toEqual({ A: '1', B: 'two words', C: 'x' });
  });

  it('matches .dockerignore patterns as Docker does for these cases', () => {
    const ig = dockerignore('**/node_modules\n.git\n**/.env.*\n!**/.env.example\ntests/output');
    expect(ig('node_modules')).toBe(true);
    expect(ig('apps/web/node_modules/x')).toBe(true);
    expect(ig('.git/HEAD')).toBe(true);
    expect(ig('infra/.env.local')).toBe(true);
    expect(ig('infra/.env.example')).toBe(false);
    expect(ig('tests/output/a')).toBe(true);
    expect(ig('tests/infra/a.test.ts')).toBe(false);
    expect(ig('apps/api/package.json')).toBe(false);
  });
});

describe('Dockerfile', () => {
  it('is multi-stage: a build stage with compilers and a slim runtime stage', () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
    expect(buildStage, 'a stage named "build"').toBeDefined();
    expect(runtime.name).toBe('runtime');
    const base = df.globalArgs.NODE_IMAGE;
    expect(base).toMatch(/^node:(20|22)-bookworm-slim$/);
    for (const s of df.stages) expect(expandArgs(s.base, df.globalArgs)).toMatch(/^node:(20|22)-bookworm-slim$/);

    const buildRuns = only(buildStage, 'RUN').map((i) => i.args).join('\n');
    expect(buildRuns).toMatch(/apt-get install[^\n]*python3/);
    expect(buildRuns).toMatch(/apt-get install[^\n]*\bmake\b/);
    expect(buildRuns).toMatch(/apt-get install[^\n]*g\+\+/);
    const runtimeRuns = only(runtime, 'RUN').map((i) => i.args).join('\n');
    expect(runtimeRuns, 'no compilers in the runtime stage').not.toMatch(/apt-get install|g\+\+|build-essential/);
  });

  it('installs with the npm of package.json "packageManager"', () => {
    const npmArg = only(buildStage, 'ARG').map((i) => keyValues(i.args)).find((kv) => 'NPM_VERSION' in kv);
    expect(npmArg).toBeDefined();
    expect(`npm@${npmArg!.NPM_VERSION}`).toBe(rootPkg.packageManager);
  });

  it('copies every workspace manifest and the lockfile before `npm ci`', () => {
    const idx = buildStage.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(idx).toBeGreaterThan(-1);
    const before = buildStage.instructions.slice(0, idx).filter((i) => i.keyword === 'COPY' && !i.flags.from);
    const copied = before.flatMap((i) => copyParts(i).sources);
    expect(copied).toContain('package.json');
    expect(copied).toContain('package-lock.json');
    for (const ws of rootPkg.workspaces) expect(copied, `${ws}/package.json before npm ci`).toContain(`${ws}/package.json`);
  });

  it('builds with turbo, then prunes dev dependencies in place (keeping the compiled better-sqlite3)', () => {
    const runs = only(buildStage, 'RUN').map((i) => i.args).join('\n');
    const build = runs.search(/turbo run build/);
    const prune = runs.search(/npm prune --omit=dev/);
    expect(build).toBeGreaterThan(-1);
    expect(prune).toBeGreaterThan(build);
    expect(runs).not.toMatch(/npm rebuild/);
  });

  it('every COPY from the build context names a file or directory that exists and is not ignored', () => {
    const ignored = dockerignore(readFileSync(rel('.dockerignore'), 'utf8'));
    const sources = df.stages.flatMap((s) =>
      only(s, 'COPY').filter((i) => !i.flags.from).flatMap((i) => copyParts(i).sources),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(src, 'no globs').not.toMatch(/[*?[]/);
      expect(existsSync(rel(src)), `COPY source ${src} exists in the repository`).toBe(true);
      expect(ignored(src), `COPY source ${src} is not excluded by .dockerignore`).toBe(false);
    }
    expect(only(runtime, 'ADD'), 'COPY, not ADD').toHaveLength(0);
  });

  it('every COPY --from=build names something the build stage copied in or produced', () => {
    const workdir = only(buildStage, 'WORKDIR').at(-1)!.args;
    expect(workdir).toBe('/app');
    // What the build stage copied from the context, as paths under /app.
    const copiedIn = only(buildStage, 'COPY')
      .filter((i) => !i.flags.from)
      .flatMap((i) => {
        const { sources, dest } = copyParts(i);
        return sources.map((src) => {
          if (dest.endsWith('/') && !src.endsWith('/')) return posix.join(dest, posix.basename(src));
          return dest === './' ? src : dest;
        });
      })
      .map((p) => posix.normalize(p).replace(/\/+$/, ''));
    const fromBuild = df.stages.flatMap((s) => only(s, 'COPY').filter((i) => i.flags.from === 'build'));
    expect(fromBuild.length).toBeGreaterThan(3);
    for (const ins of fromBuild) {
      for (const src of copyParts(ins).sources) {
        expect(src.startsWith('/app/'), `${src} is under the build WORKDIR`).toBe(true);
        const p = src.slice('/app/'.length).replace(/\/+$/, '');
        const produced = BUILD_OUTPUTS.some((re) => re.test(p));
        const copied = copiedIn.some((c) => p === c || p.startsWith(`${c}/`));
        expect(produced || copied, `${src}: copied into or built in the build stage`).toBe(true);
        // Anything copied (not produced) must exist in the repository too.
        if (!produced) expect(existsSync(rel(p)), `${p} exists in the repository`).toBe(true);
      }
    }
  });

  it('runs the built CLI: CMD matches the api package bin and the TypeScript layout', () => {
    const cmd = only(runtime, 'CMD').at(-1)!;
    expect(cmd.json, 'exec form, so node is PID 1 and receives SIGTERM').toEqual(['node', 'apps/api/dist/cli.js', 'serve']);
    expect(only(runtime, 'WORKDIR').at(-1)!.args).toBe('/app');
    // The bin is a committed launcher that loads the built CLI.
    const api = JSON.parse(readFileSync(rel('apps/api/package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = posix.join('apps/api', api.bin['ai-monitor']!);
    const loads = /new URL\('([^']+)', import\.meta\.url\)/.exec(readFileSync(rel(bin), 'utf8'))![1]!;
    expect(posix.join(posix.dirname(bin), loads)).toBe(cmd.json![1]);
    const tsconfig = readFileSync(rel('apps/api/tsconfig.json'), 'utf8');
    expect(tsconfig).toMatch(/"outDir"\s*:\s*"dist"/);
    expect(tsconfig).toMatch(/"rootDir"\s*:\s*"src"/);
    expect(existsSync(rel('apps/api/src/cli.ts')), 'apps/api/src/cli.ts compiles to dist/cli.js').toBe(true);
    // The runtime stage receives the api package (with dist) and the dashboard build.
    const runtimeSources = only(runtime, 'COPY').flatMap((i) => copyParts(i).sources);
    expect(runtimeSources.some((s) => /^\/app\/apps\/api\/?$/.test(s) || /^\/app\/apps\/api\/dist\/?$/.test(s))).toBe(true);
    expect(runtimeSources).toContain('/app/apps/web/build');
    expect(runtimeSources).toContain('/app/node_modules');
    expect(runtimeSources, 'the schema package is a runtime dependency of the api').toContain('/app/packages/schema');
  });

  it('ships what the server loads at run time outside dist: GraphiQL assets and the terminal log formatter', () => {
    // `npm prune --omit=dev` keeps only dependencies, and the runtime stage copies node_modules:
    // a package the server imports at run time must be a dependency, not a dev dependency.
    const api = JSON.parse(readFileSync(rel('apps/api/package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: Record<string, string> };
    for (const pkg of ['@graphql-yoga/render-graphiql', 'pino-pretty']) {
      expect(api.dependencies[pkg], `${pkg} is a dependency of apps/api`).toBeDefined();
      expect(api.devDependencies?.[pkg]).toBeUndefined();
    }
    const runtimeSources = only(runtime, 'COPY').flatMap((i) => copyParts(i).sources);
    expect(runtimeSources).toContain('/app/node_modules');
  });

  it('sets the container environment, volume, port and a non-root user', () => {
    const env = Object.assign({}, ...only(runtime, 'ENV').map((i) => keyValues(i.args))) as Record<string, string>;
    expect(env.AI_MONITOR_HOST).toBe('0.0.0.0');
    expect(env.AI_MONITOR_DATA_DIR).toBe('/app/monitoring_data');
    expect(env.AI_MONITOR_PORT).toBe('8765');
    expect(env.NODE_ENV).toBe('production');
    expect(env.AI_MONITOR_WEB_DIR).toBe('/app/apps/web/build');

    const volumes = only(runtime, 'VOLUME').map((i) => (i.json ?? i.args.split(/\s+/)).join(' '));
    expect(volumes).toContain('/app/monitoring_data');
    expect(only(runtime, 'EXPOSE').map((i) => i.args)).toEqual(['8765']);

    const user = only(runtime, 'USER').at(-1)!.args;
    const uid = user.split(':')[0]!;
    expect(['root', '0']).not.toContain(uid);
    expect(uid, 'numeric, so Kubernetes runAsNonRoot can verify it').toMatch(/^\d+$/);
    // The data directory is created and handed to that user before USER drops privileges.
    const userIdx = runtime.instructions.findIndex((i) => i.keyword === 'USER');
    const setup = runtime.instructions.slice(0, userIdx).filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(setup).toMatch(/mkdir -p \/app\/monitoring_data/);
    expect(setup).toContain(`chown ${user} /app/monitoring_data`);
  });

  it('has a HEALTHCHECK that runs the copied health-check script with node (no curl)', () => {
    const hc = only(runtime, 'HEALTHCHECK').at(-1)!;
    expect(hc.flags.interval).toBeDefined();
    expect(hc.flags.timeout).toBeDefined();
    expect(hc.args).toMatch(/^CMD /);
    const cmd = JSON.parse(hc.args.slice(4)) as string[];
    expect(cmd[0]).toBe('node');
    expect(hc.args).not.toMatch(/curl|wget/);
    const script = cmd[1]!;
    // The script is COPYed to that path.
    const copy = only(runtime, 'COPY').find((i) => !i.flags.from && copyParts(i).dest.replace(/^\.\//, '/app/') === script);
    expect(copy, `COPY to ${script}`).toBeDefined();
    const src = copyParts(copy!).sources[0]!;
    const text = readFileSync(rel(src), 'utf8');
    expect(text).toMatch(/\bfetch\(/);
    expect(text).toContain("'127.0.0.1'");
    expect(text).toContain("'8765'");
    expect(text).toContain('/health');
  });

  it('.dockerignore leaves out installs, build outputs, data and .git', () => {
    const ignored = dockerignore(readFileSync(rel('.dockerignore'), 'utf8'));
    for (const p of [
      'node_modules',
      'apps/api/node_modules',
      'apps/api/dist',
      'packages/schema/dist',
      'apps/web/build',
      'apps/web/.svelte-kit',
      '.turbo',
      'apps/web/.turbo',
      'monitoring_data',
      'infra/monitoring_data',
      'tests/output',
      '.git',
      'infra/.env',
    ]) {
      expect(ignored(p), `${p} is ignored`).toBe(true);
    }
    for (const p of ['apps/api/src/cli.ts', 'package-lock.json', 'infra/docker/healthcheck.mjs', 'turbo.json']) {
      expect(ignored(p), `${p} is sent`).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The health-check script, run for real against stub servers.
// ---------------------------------------------------------------------------------------------
const HEALTHCHECK = rel('infra/docker/healthcheck.mjs');
const CLI = rel('apps/api/dist/cli.js');
const OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

function runHealthcheck(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('AI_MONITOR_')) delete childEnv[k];
  Object.assign(childEnv, env);
  const proc = spawn(process.execPath, [HEALTHCHECK], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return once(proc, 'exit').then(([code]) => ({ code: code as number | null, out }));
}

async function stub(status: number, body: string): Promise<{ server: Server; port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, paths };
}

describe('infra/docker/healthcheck.mjs', () => {
  it('is a file the image can run', () => {
    expect(statSync(HEALTHCHECK).isFile()).toBe(true);
  });

  it('exits 0 when /health answers 200 healthy', async () => {
    const s = await stub(200, JSON.stringify({ status: 'healthy', connections: 0, database: true }));
    try {
      const r = await runHealthcheck({ AI_MONITOR_PORT: String(s.port), AI_MONITOR_HOST: '0.0.0.0' });
      expect(r.code, r.out).toBe(0);
      expect(s.paths).toEqual(['/health']);
    } finally {
      s.server.close();
    }
  });

  it('exits 1 on 503 (database down)', async () => {
    const s = await stub(503, JSON.stringify({ status: 'unhealthy', database: false }));
    try {
      const r = await runHealthcheck({ AI_MONITOR_PORT: String(s.port) });
      expect(r.code, r.out).toBe(1);
    } finally {
      s.server.close();
    }
  });

  it('exits 1 when nothing listens', async () => {
    const s = await stub(200, '{}');
    const port = s.port;
    s.server.close();
    await once(s.server, 'close');
    const r = await runHealthcheck({ AI_MONITOR_PORT: String(port), AI_MONITOR_HEALTHCHECK_TIMEOUT_MS: '2000' });
    expect(r.code, r.out).toBe(1);
  });

  it.skipIf(!OPENSSL)('with AI_MONITOR_TLS_CERT set, checks over https and accepts the server\'s own certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ai-monitor-hc-'));
    try {
      const gen = spawnSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'],
        { stdio: 'ignore' },
      );
      expect(gen.status).toBe(0);
      const server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}'),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const port = String((server.address() as AddressInfo).port);
        const r = await runHealthcheck({ AI_MONITOR_PORT: port, AI_MONITOR_TLS_CERT: join(dir, 'cert.pem') });
        expect(r.code, r.out).toBe(0);
        // Plain http against the TLS port fails.
        const plain = await runHealthcheck({ AI_MONITOR_PORT: port, AI_MONITOR_HEALTHCHECK_TIMEOUT_MS: '2000' });
        expect(plain.code, plain.out).toBe(1);
      } finally {
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync(CLI))('exits 0 against the real server (built apps/api/dist/cli.js)', async () => {
    const { startServer } = await import('../helpers/server.js');
    const server = await startServer();
    try {
      const r = await runHealthcheck({ AI_MONITOR_PORT: String(server.port), AI_MONITOR_HOST: '0.0.0.0' });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/"status":"healthy"/);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
