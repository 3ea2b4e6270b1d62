import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Every suite starts real server processes on ephemeral ports; two cores, so two files at a time.
export default defineConfig({
  // One graphql module for the in-process server: Node loads its CommonJS entry for graphql-yoga,
  // and the "module" entry for our code would be a second copy (its errors fail instanceof checks).
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
