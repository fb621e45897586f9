/**
 * Sizes of the scale-out and fault tests: scaled down in the normal suite (`npm test`, CI), at the full size
 * under `npm run test:faults` (vitest.faults.config.ts sets FAULT_SCALE=full), which runs them one file at a time.
 */
export const FULL_SCALE = process.env.FAULT_SCALE === 'full';

/** `ci` in the normal suite, `full` under `npm run test:faults`. */
export function sized(ci: number, full: number): number {
  return FULL_SCALE ? full : ci;
}

/** How long a child process may take to start (tsx compiles the sources; several start at once on a shared machine). */
export const STARTUP_MS = 120_000;
