/**
 * Every package the lockfile installs admits every Node.js line the project declares
 * (root `engines.node`), so `npm install` prints no EBADENGINE warning on a supported Node.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { REPO_ROOT } from '../helpers/server.js';

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  link?: boolean;
}

const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const declared = new semver.Range(root.engines.node);

/** The first release of each line the project declares (20.19.0, 22.13.0, 24.0.0). */
const firstOfEachLine = declared.set.map((comparators) => semver.minVersion(new semver.Range(comparators.map((c) => c.value).join(' ')))!.version);

function nodeRange(entry: LockEntry): string | undefined {
  // Old packages may declare engines as an array; npm ignores that form.
  return Array.isArray(entry.engines) ? undefined : entry.engines?.node;
}

describe('engines', () => {
  it('the project declares Node.js 20.19 and 22.x', () => {
    expect(semver.satisfies('20.19.0', declared)).toBe(true);
    expect(semver.satisfies('20.18.0', declared)).toBe(false);
    expect(semver.satisfies('22.20.0', declared)).toBe(true);
    expect(firstOfEachLine).toEqual(['20.19.0', '22.13.0', '24.0.0']);
  });

  it.each(firstOfEachLine)('every installed package admits Node.js %s', (node) => {
    const refused = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !entry.link)
      .map(([path, entry]) => [path, entry.version, nodeRange(entry)] as const)
      .filter(([, , range]) => range !== undefined && !semver.satisfies(node, range))
      .map(([path, version, range]) => `${path.replace(/^.*node_modules\//, '')}@${version} needs node ${range}`);
    expect(refused).toEqual([]);
  });
});
