/**
 * `npm run docker:steps` (and CI, .ci/run): the Dockerfile's steps, run without a Docker engine, so a broken image
 * cannot land unseen on a machine that has none.
 *
 * It does not keep a copy of the steps: it READS the Dockerfile (scripts/dockerfile.ts) and runs every stage in its
 * own directory under a temporary root — each base image stands in as this machine's Node.js, a `FROM <stage>` starts
 * from that stage's files, WORKDIR/ENV/COPY/RUN behave as in a build (COPY honours .dockerignore, RUN sees the image's
 * ENV and not this shell's, plus a half-set production configuration that installing and building must ignore) — so
 * the Dockerfile and this check cannot drift apart: a change to one is a change to both, and an instruction it cannot
 * reproduce stops it with an error.
 *
 * Then, like `docker compose up`, from the final stage: the migrate service's commands on a fresh database, the CMD
 * (the API) as the image's USER (when this runs as root: `setpriv` to `nobody`, as the `node` user does not exist
 * here) with `docker run -e`-style settings, the HEALTHCHECK command and /readyz until they pass, SIGTERM and an exit
 * code of 0 within the shutdown deadline; then the same for ROLE=worker.
 *
 * Options: `--keep` leaves the temporary root for inspection; `--context=head` builds the last commit instead of the
 * working tree (in a tree shared with work in progress). PostgreSQL and Redis: TEST_DATABASE_URL (a database on
 * the server to create the check's database from, default postgres@127.0.0.1:5432/postgres) and TEST_REDIS_URL.
 * The npm cache: RUN steps use their own cache directory (the image's `npm cache clean` must not empty the machine's),
 * seeded with hard links to this user's cache when there is one, as a BuildKit cache mount would be.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type Instruction, parseDockerfile, parseDockerignore, type Stage, substitute } from './dockerfile.js';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
/** `--context=head`: build from the last commit (`git archive HEAD`) instead of the working tree. */
const fromHead = process.argv.includes('--context=head');
const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** SHUTDOWN_TIMEOUT_MS given to the started processes; they must exit 0 within it (plus process exit). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

const started = Date.now();
const log = (message: string) =>
  console.log(`[docker-steps +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

type CopyStep = Extract<Instruction, { kind: 'COPY' }>;

interface BuiltStage {
  name: string | undefined;
  /** The stage's filesystem root: the image path /app is `${root}/app`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  args: Record<string, string | undefined>;
  user: string | undefined;
  cmd: string[] | undefined;
  healthcheck: string[] | undefined;
}

const temp = mkdtempSync(join(tmpdir(), 'mk-docker-steps-'));
// The processes started as `nobody` must be able to reach the stage directories.
chmodSync(temp, 0o755);
/** The build context: what `docker build .` would be sent (before .dockerignore), or the last commit. */
const CONTEXT = fromHead ? exportHead() : PROJECT;
const dockerfile = parseDockerfile(readFileSync(join(CONTEXT, 'Dockerfile'), 'utf8'));
const ignored = parseDockerignore(readFileSync(join(CONTEXT, '.dockerignore'), 'utf8'));
const npmCache = join(temp, 'npm-cache');
seedNpmCache();

const databaseName = `mk_docker_${randomBytes(5).toString('hex')}`;
const redisPrefix = `mkdocker${randomBytes(4).toString('hex')}`;
const children = new Set<ChildProcess>();

/**
 * Part of a production configuration, as an operator's shell or a CI job might have exported it: installing and
 * building must not read runtime settings (only starting does), so every RUN step gets these, and one that loaded the
 * configuration would fail on them (tests/integration/install.test.ts exports the same for the postinstall).
 */
const HALF_SET_CONFIGURATION = {
  SMTP_URL: 'smtp://127.0.0.1:2525',
  APP_ENV: 'production',
  PORT: 'not-a-port',
  DKIM_DOMAIN: 'uio.no',
};

try {
  const stages: BuiltStage[] = [];
  for (const [index, stage] of dockerfile.stages.entries()) stages.push(buildStage(stage, index, stages));
  const runtime = stages.at(-1)!;
  await runImage(runtime);
  console.log(
    `docker-steps: OK — ${stages.length} stages built from the Dockerfile, migrations and seed ran, the API answered ` +
      `its HEALTHCHECK, /readyz and the front page with its assets and the API and the worker exited 0 on SIGTERM, as ${runtimeUserLabel(runtime)}, ` +
      `in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
} catch (error) {
  console.error(`docker-steps: FAILED — ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGKILL');
  await cleanUp();
}

// ---------------------------------------------------------------------------------------------------------------------

function buildStage(stage: Stage, index: number, built: BuiltStage[]): BuiltStage {
  const label = stage.name ?? `stage ${index}`;
  const fromImage = substitute(stage.from, dockerfile.globalArgs);
  const parent = built.find((b) => b.name === fromImage);
  const root = join(temp, `stage-${index}-${stage.name ?? 'unnamed'}`);
  const current: BuiltStage = parent
    ? {
        ...parent,
        name: stage.name,
        root,
        env: { ...parent.env },
        args: { ...parent.args },
        cmd: parent.cmd,
      }
    : {
        name: stage.name,
        root,
        workdir: '/',
        env: {},
        args: {},
        user: undefined,
        cmd: undefined,
        healthcheck: undefined,
      };
  if (parent) {
    log(`${label}: FROM ${fromImage} (a hard-linked copy of its files)`);
    execFileSync('cp', ['-al', parent.root, root]);
  } else {
    log(`${label}: FROM ${fromImage} — stands in as this machine's Node.js ${process.version}`);
    mkdirSync(root, { recursive: true });
  }
  chmodSync(root, 0o755);

  for (const step of stage.steps) runStep(current, step, built, label);
  return current;
}

function runStep(stage: BuiltStage, step: Instruction, built: BuiltStage[], label: string): void {
  const vars = { ...dockerfile.globalArgs, ...stage.args, ...stage.env };
  switch (step.kind) {
    case 'ARG':
      stage.args[step.name] = step.default ?? dockerfile.globalArgs[step.name];
      return;
    case 'FROM':
      return;
    case 'WORKDIR': {
      stage.workdir = posix.resolve(stage.workdir, substitute(step.path, vars, step.line));
      mkdirSync(hostPath(stage, stage.workdir), { recursive: true, mode: 0o755 });
      return;
    }
    case 'ENV':
      for (const [name, value] of Object.entries(step.vars)) stage.env[name] = substitute(value, vars, step.line);
      return;
    case 'COPY': {
      const source = step.from ? built.find((b) => b.name === step.from) : undefined;
      if (step.from && !source) throw new Error(`Dockerfile line ${step.line}: no stage named ${step.from}`);
      const dest = posix.resolve(stage.workdir, substitute(step.dest, vars, step.line));
      for (const raw of step.sources) {
        const from = substitute(raw, vars, step.line);
        if (source) copyInto(hostPath(source, posix.resolve(source.workdir, from)), stage, dest, step, undefined);
        else copyFromContext(from, stage, dest, step);
      }
      log(`${label}: COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} ${step.dest}`);
      return;
    }
    case 'RUN': {
      const display = step.command.join(' ');
      log(`${label}: RUN ${display}`);
      const [file, args] = step.shell
        ? ['/bin/sh', ['-c', step.command[0]!]]
        : [step.command[0]!, step.command.slice(1)];
      const result = spawnSync(file, args, {
        cwd: hostPath(stage, stage.workdir),
        env: buildEnv(stage),
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      if (result.status !== 0) {
        throw new Error(`Dockerfile line ${step.line} (${label}): RUN ${display} exited with ${result.status}`);
      }
      return;
    }
    case 'USER':
      stage.user = substitute(step.user, vars, step.line);
      return;
    case 'EXPOSE':
      return;
    case 'HEALTHCHECK':
      stage.healthcheck = step.command;
      return;
    case 'CMD':
      stage.cmd = step.command;
      return;
  }
}

/**
 * The environment of a RUN step: what a Node.js base image provides, the half-set configuration above, and the
 * image's ENV on top — nothing else of this shell.
 */
function buildEnv(stage: BuiltStage): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: join(temp, 'home'),
    npm_config_cache: npmCache,
    npm_config_update_notifier: 'false',
    ...HALF_SET_CONFIGURATION,
    ...stage.env,
  };
}

function hostPath(stage: BuiltStage, imagePath: string): string {
  return join(stage.root, imagePath);
}

/** COPY from the build context: what .dockerignore leaves in it. A named source that is ignored is missing. */
function copyFromContext(source: string, stage: BuiltStage, dest: string, step: CopyStep): void {
  const relativeSource = posix.normalize(source).replace(/^\.\/?/, '');
  if (relativeSource.startsWith('..'))
    throw new Error(`Dockerfile line ${step.line}: ${source} is outside the context`);
  if (relativeSource && ignored(relativeSource)) {
    throw new Error(`Dockerfile line ${step.line}: COPY ${source}: excluded by .dockerignore (not in the context)`);
  }
  const hostSource = join(CONTEXT, relativeSource);
  if (!existsSync(hostSource)) throw new Error(`Dockerfile line ${step.line}: COPY ${source}: no such file`);
  copyInto(hostSource, stage, dest, step, (path) => {
    const inContext = relative(CONTEXT, path).split('\\').join('/');
    return inContext !== '' && ignored(inContext);
  });
}

/**
 * Docker's COPY: a directory's contents go into the destination directory; a file goes to the destination path, or
 * into it when it ends with `/`. Existing files are replaced (unlinked first: stages share files by hard links).
 */
function copyInto(
  hostSource: string,
  stage: BuiltStage,
  dest: string,
  step: CopyStep,
  skip: ((path: string) => boolean) | undefined,
): void {
  if (!existsSync(hostSource)) throw new Error(`Dockerfile line ${step.line}: ${hostSource} does not exist`);
  const target = hostPath(stage, dest);
  if (statSync(hostSource).isDirectory()) {
    copyTree(hostSource, target, skip);
  } else {
    const file = step.dest.endsWith('/') ? join(target, posix.basename(hostSource)) : target;
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    rmSync(file, { force: true });
    copyFileSync(hostSource, file);
  }
}

function copyTree(from: string, to: string, skip: ((path: string) => boolean) | undefined): void {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    if (skip?.(source)) continue;
    const target = join(to, entry);
    const info = lstatSync(source);
    if (info.isDirectory()) copyTree(source, target, skip);
    else {
      rmSync(target, { force: true, recursive: true });
      cpSync(source, target, { verbatimSymlinks: true });
    }
  }
}

function exportHead(): string {
  const dir = join(temp, 'context');
  mkdirSync(dir);
  execFileSync('sh', ['-c', `git -C "$1" archive --format=tar HEAD | tar -x -C "$2"`, 'sh', PROJECT, dir]);
  log(
    `context: the last commit (${execFileSync('git', ['-C', PROJECT, 'rev-parse', '--short', 'HEAD']).toString().trim()})`,
  );
  return dir;
}

function seedNpmCache(): void {
  const userCache = join(homedir(), '.npm', '_cacache');
  mkdirSync(join(npmCache, '_cacache'), { recursive: true });
  if (!existsSync(join(userCache, 'content-v2'))) return;
  // Content files are immutable (written once, renamed into place): hard links are safe and cost nothing. The index
  // is appended to, so it is copied.
  execFileSync('cp', ['-al', join(userCache, 'content-v2'), join(npmCache, '_cacache', 'content-v2')]);
  if (existsSync(join(userCache, 'index-v5'))) {
    execFileSync('cp', ['-r', join(userCache, 'index-v5'), join(npmCache, '_cacache', 'index-v5')]);
  }
}

// ---------------------------------------------------------------------------------------------------------------------

function runtimeUserLabel(stage: BuiltStage): string {
  if (!stage.user || stage.user === 'root') return 'root (the image has no USER!)';
  return process.getuid?.() === 0 ? `nobody (standing in for the image's USER ${stage.user})` : `${currentUser()}`;
}

function currentUser(): string {
  return execFileSync('id', ['-un']).toString().trim();
}

/** The command line that runs `command` as the image's user: non-root always. */
function asImageUser(stage: BuiltStage, command: string[]): string[] {
  if (!stage.user || stage.user === 'root' || stage.user === '0') {
    throw new Error('the final stage has no non-root USER: the image would run as root');
  }
  if (process.getuid?.() !== 0) return command;
  return ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...command];
}

interface Started {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function startInImage(stage: BuiltStage, command: string[], settings: Record<string, string>, name: string): Started {
  const [file, ...args] = asImageUser(stage, command);
  const child = spawn(file!, args, {
    cwd: hostPath(stage, stage.workdir),
    // `docker run -e`: the image's ENV, then the operator's settings. Nothing of this shell.
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...stage.env, ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 400) lines.shift();
    });
  }
  const exited = once(child, 'exit').then(([code]) => {
    children.delete(child);
    return code as number | null;
  });
  exited.then((code) => log(`${name} exited with ${code}`));
  return { child, lines, exited };
}

async function runToEnd(stage: BuiltStage, command: string[], settings: Record<string, string>, name: string) {
  log(`runtime: ${command.join(' ')} (${name})`);
  const run = startInImage(stage, command, settings, name);
  const code = await run.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${run.lines.slice(-30).join('\n')}`);
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, running?: Started) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (running && running.child.exitCode !== null) {
      throw new Error(`exited while waiting for ${what}:\n${running.lines.slice(-30).join('\n')}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${running ? `:\n${running.lines.slice(-30).join('\n')}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopWithSigterm(run: Started, name: string): Promise<number> {
  const sent = Date.now();
  run.child.kill('SIGTERM');
  const bound = SHUTDOWN_TIMEOUT_MS + 5000;
  const code = await Promise.race([
    run.exited,
    new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), bound).unref()),
  ]);
  if (code === 'late') throw new Error(`${name} did not exit within ${bound} ms of SIGTERM`);
  if (code !== 0) throw new Error(`${name} exited with ${code} after SIGTERM:\n${run.lines.slice(-30).join('\n')}`);
  const tookMs = Date.now() - sent;
  log(`${name}: SIGTERM → exit 0 in ${tookMs} ms`);
  return tookMs;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function runImage(stage: BuiltStage): Promise<void> {
  if (!stage.cmd) throw new Error('the final stage has no CMD');
  if (stage.cmd[0] === 'npm') throw new Error('the CMD starts npm, which does not forward SIGTERM: start node itself');
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${databaseName}`;
  const [port, smtpPort] = [await freePort(), await freePort()];
  // What `docker run -e …` / the compose file would set; the CMD's defaults (ROLE=api, HOST, PORT) come from ENV.
  const settings: Record<string, string> = {
    DATABASE_URL: url.toString(),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    // Nothing listens beyond loopback on this machine.
    HOST: '127.0.0.1',
    PORT: String(port),
    DEV_OIDC_PORT: '0',
    UNSUBSCRIBE_SECRET: randomBytes(24).toString('base64'),
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_FROM: 'BOTT Meldingskanal <meldingskanal@example.org>',
  };

  // docker-compose.yml's migrate service: `node dist/src/cli/migrate.js && node dist/prisma/seed.js`.
  await runToEnd(stage, ['node', 'dist/src/cli/migrate.js'], settings, 'migrate');
  await runToEnd(stage, ['node', 'dist/prisma/seed.js'], settings, 'seed');

  log(`runtime: ${stage.cmd.join(' ')} (ROLE=${stage.env.ROLE ?? 'all'}) as ${runtimeUserLabel(stage)}`);
  const api = startInImage(stage, stage.cmd, settings, 'api');
  const base = `http://127.0.0.1:${port}`;
  if (stage.healthcheck) {
    const [file, ...args] = stage.healthcheck;
    await until(
      'the HEALTHCHECK command to pass',
      async () => {
        const probe = spawn(file!, args, { env: { PATH: process.env.PATH ?? '', ...stage.env, ...settings } });
        const [code] = await once(probe, 'exit');
        return code === 0;
      },
      60_000,
      api,
    );
    log('runtime: the HEALTHCHECK command passes');
  }
  await until('/healthz 200', async () => (await fetch(`${base}/healthz`)).status === 200, 30_000, api);
  await until('/readyz 200', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, api);
  const channels = await fetch(`${base}/api/v1/channels`);
  if (channels.status !== 200) throw new Error(`GET /api/v1/channels answered ${channels.status}`);
  // The front page and the fingerprinted assets it links to (dist/web, made by the build stage's web build).
  const page = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
  if (page.status !== 200) throw new Error(`GET / answered ${page.status}`);
  const assets = [...(await page.text()).matchAll(/(?:href|src)="(\/[^"?#]+\.(?:css|js))"/g)].map((m) => m[1]!);
  if (assets.length === 0) throw new Error('the front page links to no style sheet or script');
  for (const asset of assets) {
    const response = await fetch(`${base}${asset}`);
    if (response.status !== 200)
      throw new Error(`GET ${asset} (linked from the front page) answered ${response.status}`);
  }
  log(`runtime: /healthz, /readyz, /api/v1/channels, the front page and its ${assets.length} assets answer 200`);
  await stopWithSigterm(api, 'api');

  const worker = startInImage(stage, stage.cmd, { ...settings, ROLE: 'worker' }, 'worker');
  await until(
    'the worker to start',
    async () => worker.lines.some((l) => l.includes('"workers started"')),
    60_000,
    worker,
  );
  await stopWithSigterm(worker, 'worker');
}

async function cleanUp(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin
    .connect()
    .then(() => admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`))
    .catch((error: Error) => console.error(`docker-steps: could not drop ${databaseName}: ${error.message}`))
    .finally(() => admin.end().catch(() => {}));
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch (error) {
    console.error(`docker-steps: could not delete the Redis keys ${redisPrefix}:*: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
  if (keep) console.log(`docker-steps: kept ${temp}`);
  else rmSync(temp, { recursive: true, force: true });
}
