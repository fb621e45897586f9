import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    // Test files run in parallel, each with its own database (cloned from a migrated template) and Redis key prefix.
    pool: 'forks',
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // No sleeps anywhere: tests wait on state with tests/helpers/wait.ts.
  },
});
