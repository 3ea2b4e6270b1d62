import { defineConfig } from 'vitest/config';

// Every suite starts real server processes on ephemeral ports; two cores, so two files at a time.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
