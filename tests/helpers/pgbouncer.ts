/**
 * A PgBouncer of the test's own (Debian's `pgbouncer`, `apt-get install -y pgbouncer`) on a free loopback port, in
 * front of the test PostgreSQL, every database name passed through (`* = host=… port=…`). PgBouncer refuses to run
 * as root, so as root it is started as `nobody`. Stopped by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { adminUrl } from './urls.js';
import { waitFor } from './wait.js';

export interface PgBouncer {
  port: number;
  /** The test database URL with host and port replaced by PgBouncer's. */
  urlFor(databaseUrl: string): string;
  stop(): Promise<void>;
}

export async function startPgBouncer(
  options: { poolMode?: 'transaction' | 'session'; poolSize?: number } = {},
): Promise<PgBouncer> {
  const upstream = new URL(adminUrl());
  const dir = await mkdtemp(join(tmpdir(), 'mk-pgbouncer-'));
  await chmod(dir, 0o777);
  const port = await freePort();
  const user = decodeURIComponent(upstream.username || 'postgres');
  await writeFile(join(dir, 'userlist.txt'), `"${user}" ""\n`);
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      'max_client_conn = 2000',
      `default_pool_size = ${options.poolSize ?? 20}`,
      `admin_users = ${user}`,
      // The pg driver sends none of these, but psql and others do.
      'ignore_startup_parameters = extra_float_digits,options',
    ].join('\n'),
  );
  const asNobody = process.getuid?.() === 0;
  const [command, ...args] = asNobody
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'pgbouncer', join(dir, 'pgbouncer.ini')]
    : ['pgbouncer', join(dir, 'pgbouncer.ini')];
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
  }
  const urlFor = (databaseUrl: string) => {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${output}`);
      const client = new pg.Client({ connectionString: urlFor(adminUrl()) });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => {});
      }
    },
    { what: `pgbouncer on port ${port}`, timeoutMs: 15_000 },
  );
  return {
    port,
    urlFor,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        // SIGINT: "safe shutdown" would wait for clients; SIGTERM closes at once.
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
