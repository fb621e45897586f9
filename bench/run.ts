/**
 * `npm run bench`: builds the product once (bench/lib/build.ts), then runs every benchmark script in turn, each in its
 * own process with its own database and Redis prefix, and prints their summary lines and a Markdown table of every
 * figure and target (the form bench/README.md records). Each script is bounded on its own; the whole run takes about
 * 15 minutes on a quiet two-core machine. One script failing does not stop the others; the exit code is 1 then.
 *
 *   npm run bench                       all of them
 *   npm run bench -- feeds publish      some of them (by name)
 *
 * Smaller runs: BENCH_EMAIL_SIZES, BENCH_DIGEST_SIZE, BENCH_LIVE_SIZES, BENCH_FEED_DURATION_S … (see each script).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';
import { buildProduct } from './lib/build.js';
import type { Figures, TargetCheck } from './lib/report.js';
import { round } from './lib/report.js';

const SCRIPTS = ['feeds', 'publish', 'email-fanout', 'live-fanout'] as const;

interface Result {
  name: string;
  figures: Figures;
  targets: TargetCheck[];
}

function main(): void {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !(SCRIPTS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${SCRIPTS.join(', ')}`);
  const scripts = chosen.length > 0 ? chosen : [...SCRIPTS];

  console.error('bench: building the product (tsc -p tsconfig.build.json → dist/bench)');
  buildProduct();
  const resultFile = join(mkdtempSync(join(tmpdir(), 'mk-bench-')), 'results.jsonl');
  const started = new Date();
  const failed: string[] = [];
  for (const name of scripts) {
    console.error(`\nbench: ${name}`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, BENCH_BUILT: '1', BENCH_RESULT_FILE: resultFile },
      // A script that hangs is stopped: its own bounds failed.
      timeout: 30 * 60_000,
    });
    if (run.status !== 0) failed.push(name);
  }

  let results: Result[] = [];
  try {
    results = readFileSync(resultFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Result);
  } catch {
    // No script got as far as its summary.
  }
  console.log(
    `\n## Results of ${started.toISOString().slice(0, 16)}Z (\`npm run bench${chosen.length ? ` -- ${chosen.join(' ')}` : ''}\`)\n`,
  );
  console.log('| benchmark | figure | value |\n| --- | --- | --- |');
  for (const result of results) {
    for (const [key, value] of Object.entries(result.figures)) {
      console.log(`| ${result.name} | ${key} | ${typeof value === 'number' ? round(value) : value} |`);
    }
  }
  console.log('\n| benchmark | target | met | figure |\n| --- | --- | --- | --- |');
  for (const result of results) {
    for (const check of result.targets) {
      console.log(`| ${result.name} | ${check.name} | ${check.met ? 'yes' : '**no**'} | ${check.detail} |`);
    }
  }
  if (failed.length > 0) {
    console.error(`\nbench: failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main();
