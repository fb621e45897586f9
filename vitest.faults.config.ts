// `npm run test:faults`: the scale-out and fault tests at the full size (10,000-recipient fan-outs, 2,000
// reconnecting clients), one file at a time so they do not compete for the machine. The normal suite (`npm test`)
// runs the same files scaled down (tests/helpers/fault-scale.ts).
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['tests/e2e/scale-out.test.ts', 'tests/e2e/faults/**/*.test.ts'],
    fileParallelism: false,
    env: { FAULT_SCALE: 'full' },
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
