/**
 * The Python SDK's installation, as its README writes it: the shell block of its "Install"
 * section runs literally (a virtual environment in a temporary HOME, the checkout on
 * PYTHONPATH) with no package index reachable, then the SDK sends one interaction to a real
 * server, which stores it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gql, REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';
import { run } from '../cli/cli-helpers.js';

const README = join(REPO_ROOT, 'clients/python/README.md');
let server: RunningServer;
const home = mkdtempSync(join(tmpdir(), 'ai-monitor-python-home-'));

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.stop();
  server.cleanup();
  rmSync(home, { recursive: true, force: true });
});

/** The first ```sh block of the README's "## Install" section. */
function installBlock(): string {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('\n## Install\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ', 1)));
  if (!block) throw new Error(`no sh block in the Install section of ${README}`);
  return block[1]!;
}

const SEND_ONE = `
import asyncio, os, sys
from ai_realtime_tracker import AIMonitorClient

async def main():
    monitor = AIMonitorClient(server_url=os.environ["SERVER_WS"])
    assert await monitor.connect(), "server not reachable"
    await monitor.log_interaction(user_input="sent from a venv", intent="install_check", tools_used=[],
                                  response_time=42, success=True, error_type=None, session_id="python-install")
    assert await monitor.aflush(timeout=20), "not delivered"
    monitor.close()
    print("interpreter", sys.prefix)

asyncio.run(main())
`;

describe('Python SDK installation (clients/python/README.md)', () => {
  it('the documented commands work offline in a virtual environment and the SDK stores an interaction', async () => {
    const block = installBlock();
    expect(block).toContain('/path/to/ai-monitor');
    const script = `set -euo pipefail\n${block.replaceAll('/path/to/ai-monitor', REPO_ROOT)}\npython - <<'PY'\n${SEND_ONE}\nPY\n`;
    const r = await run('bash', ['-c', script], {
      cwd: home,
      timeoutMs: 120_000,
      // No package index: the documented way needs none.
      env: { HOME: home, PYTHONPATH: undefined, VIRTUAL_ENV: undefined, PIP_NO_INDEX: '1', SERVER_WS: server.wsUrl },
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('ai-monitor SDK ready');
    // The interpreter was the virtual environment's.
    expect(r.stdout).toContain(`interpreter ${join(home, '.venvs/my-assistant')}`);

    const stored = await gql<{ interactions: { edges: { node: { sessionId: string; userInput: string; intent: string } }[] } }>(
      server,
      '{ interactions(first: 10) { edges { node { sessionId userInput intent } } } }',
    );
    expect(stored.data?.interactions.edges.map((e) => e.node)).toContainEqual({ sessionId: 'python-install', userInput: 'sent from a venv', intent: 'install_check' });
    // The server still serves.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
