/**
 * The product as production runs it: compiled JavaScript (`node dist/src/main.js` in the image), not TypeScript
 * through tsx, whose loader thread and compile caches would add some 50 MB to every process's RSS and muddle the
 * memory figures. Each benchmark compiles the current sources once into dist/bench/ (tsc -p tsconfig.build.json, the
 * build the image runs; gitignored like the rest of dist/), unless bench/run.ts already did (BENCH_BUILT=1).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

export const BUILD_DIR = 'dist/bench';
/** The product's entry point in the build, relative to the project root. */
export const PRODUCT_ENTRY = `${BUILD_DIR}/src/main.js`;

let built = process.env.BENCH_BUILT === '1';

export function buildProduct(): void {
  if (built) return;
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // tsc emits JavaScript despite type errors (exit status 2); running needs the JavaScript, checking is the
    // typecheck's job. Anything else (no output at all) is a failure.
    const status = (error as { status?: number }).status;
    if (status !== 2 || !existsSync(join(PROJECT_ROOT, PRODUCT_ENTRY))) throw error;
    const output = String((error as { stdout?: Buffer }).stdout ?? '').trim();
    console.error(
      `bench: the build has type errors (running it anyway):\n${output.split('\n').slice(0, 5).join('\n')}`,
    );
  }
  // The API serves the web app's assets (npm ci builds them; a fresh checkout may not have).
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'web', 'manifest.json'))) {
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  }
  built = true;
}
