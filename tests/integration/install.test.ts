/**
 * Installing must not depend on runtime settings; only starting does. An operator who has exported part of the
 * configuration (here: SMTP_URL without MAIL_FROM, APP_ENV=production without its secrets, a PORT that is no number,
 * a DKIM domain without its key, no database at all) runs `npm ci`, whose postinstall generates the Prisma client
 * (prisma.config.ts is loaded) and builds the web assets. That must succeed; the same settings must still stop the
 * service itself at start, naming what is missing.
 *
 * Runs in a copy of the project (sources, scripts, schema; node_modules linked), so the shared working tree's
 * generated client and dist/ are not touched. `npm ci` and `npm run build` as a whole, with the same half-set
 * environment exported: scripts/docker-steps.ts (CI), which runs the Dockerfile's steps.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

/** Part of a production configuration, enough to trip src/config.ts's rules (scripts/docker-steps.ts exports the same). */
const HALF_SET = {
  SMTP_URL: 'smtp://127.0.0.1:2525',
  APP_ENV: 'production',
  PORT: 'not-a-port',
  DKIM_DOMAIN: 'uio.no',
};

let copy: string;

async function run(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'mk-install-'));
  for (const entry of [
    'package.json',
    'package-lock.json',
    'prisma.config.ts',
    'tsconfig.json',
    'tsconfig.build.json',
  ]) {
    await cp(join(PROJECT_ROOT, entry), join(copy, entry));
  }
  for (const dir of ['scripts', 'prisma', 'workers']) {
    await cp(join(PROJECT_ROOT, dir), join(copy, dir), { recursive: true });
  }
  // The sources without the generated client: generating it is what is under test.
  await cp(join(PROJECT_ROOT, 'src'), join(copy, 'src'), {
    recursive: true,
    filter: (source) => !source.startsWith(join(PROJECT_ROOT, 'src', 'generated')),
  });
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
});

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('installing with a half-set environment', () => {
  it("runs npm's postinstall: the Prisma client is generated and the web assets built", async () => {
    const postinstall = await run('npm', ['run', 'postinstall'], copy, HALF_SET);
    expect(postinstall.output).not.toMatch(/MAIL_FROM|Invalid configuration/);
    expect(postinstall.code, postinstall.output).toBe(0);
    expect(await readdir(join(copy, 'src', 'generated', 'prisma'))).toContain('client.ts');
    expect(await readdir(join(copy, 'dist', 'web'))).toContain('manifest.json');
  }, 120_000);

  it('still refuses to START with that environment, naming what is missing', async () => {
    // The launcher of the copy installed above: configuration is checked at start, and only there.
    const started = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], copy, HALF_SET);
    expect(started.code, started.output).toBe(2);
    expect(started.output).toContain('MAIL_FROM is required when SMTP_URL is set');
    expect(started.output).toContain('PORT must be a whole number');
  }, 60_000);
});
