/** The `ai-monitor` command line as a whole: help for every command, exit codes for misuse. */
import { describe, expect, it } from 'vitest';
import { cli } from './cli-helpers.js';

const COMMANDS = ['serve', 'demo', 'tail', 'stats', 'backup', 'restore', 'cleanup', 'config check'];

describe('ai-monitor', () => {
  it('lists every command and documents its exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'demo', 'tail', 'stats', 'backup', 'restore', 'cleanup', 'config']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(r.stdout).toMatch(/Exit status \(every command\):\n\s+0\s+done\n\s+1\s+failed while working.*\n\s+2\s+bad usage or configuration/);
  });

  it.each(COMMANDS)('"%s --help" explains the command and exits 0', async (command) => {
    const r = await cli([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: ai-monitor ${command}`);
    expect(r.stderr).toBe('');
  });

  it('exits 2 for an unknown command or none', async () => {
    let r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: ai-monitor');
  });

  it('exits 2 for a bad port given to serve', async () => {
    const r = await cli(['serve', '--port', 'eighty']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/port/);
  });
});
