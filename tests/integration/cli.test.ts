/**
 * The command-line tool (src/cli/main.ts), run as a real process against this file's own database, exactly as an
 * operator runs it: exit codes, output, and the effect on the database.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { authenticateToken, hashToken } from '../../src/services/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli', 'main.ts');
// Not \b…\b: a token may end in '-', after which there is no word boundary before a newline.
const TOKEN = /(?<![\w-])mkt_[\w-]{40}(?![\w-])/g;

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.prisma.organisation.create({ data: { code: 'UiB', name: 'Universitetet i Bergen', realm: 'uib.no' } });
});

afterAll(async () => {
  await database?.drop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      // Only what the tool needs: it must not depend on anything else in the test runner's environment.
      {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        // Generous: every run compiles the CLI's imports through tsx, and ten of them start at once; on a machine
        // loaded by other work that took over 20 s in CI. A CLI that hangs still fails the test.
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

const cli = (...args: string[]) => spawnCli(args, { DATABASE_URL: database.url });

/** The one token a run printed (and checks it printed exactly one). */
function printedToken(run: Run): string {
  const tokens = run.stdout.match(TOKEN) ?? [];
  expect(tokens, run.stdout + run.stderr).toHaveLength(1);
  return tokens[0]!;
}

async function makeUser(email: string, options: { isAdmin?: boolean; displayName?: string } = {}) {
  return database.prisma.user.create({
    data: { email, displayName: options.displayName ?? email, isAdmin: options.isAdmin ?? false },
  });
}

// Each test uses its own users and channels, so they run concurrently: the cost of a test here is process start-up.
describe.concurrent('cli', { timeout: 240_000 }, () => {
  it('create-admin creates an administrator and prints a token that authenticates with admin scope', async () => {
    const run = await cli('create-admin', '--email', 'Admin@UiB.no', '--name', 'Første administrator', '--org', 'uib');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Created administrator admin@uib.no');
    expect(run.stdout).toMatch(/shown only this once/);
    const token = printedToken(run);

    const actor = await authenticateToken(database.prisma, token);
    expect(actor).toMatchObject({ kind: 'user', isAdmin: true });
    expect(actor?.kind === 'user' && [...actor.scopes].sort()).toEqual(['admin', 'publish', 'read']);
    const user = await database.prisma.user.findUniqueOrThrow({
      where: { email: 'admin@uib.no' },
      include: { organisation: true, apiTokens: true },
    });
    expect(user).toMatchObject({ displayName: 'Første administrator', isAdmin: true, organisation: { code: 'UiB' } });
    // Only the hash is stored.
    expect(user.apiTokens).toHaveLength(1);
    expect(user.apiTokens[0]!.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(user.apiTokens)).not.toContain(token);
  });

  it('create-admin promotes an existing user, keeping their name', async () => {
    await makeUser('promote@uib.no', { displayName: 'Vanlig bruker' });

    const run = await cli('create-admin', '--email', 'promote@uib.no', '--name', 'Another name');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Promoted to administrator promote@uib.no');
    const actor = await authenticateToken(database.prisma, printedToken(run));
    expect(actor).toMatchObject({ isAdmin: true, scopes: ['read', 'publish', 'admin'] });
    expect(await database.prisma.user.findUniqueOrThrow({ where: { email: 'promote@uib.no' } })).toMatchObject({
      isAdmin: true,
      displayName: 'Vanlig bruker',
    });
  });

  it("create-token refuses scopes beyond the user's rights and creates nothing", async () => {
    await makeUser('publisher@uib.no');

    const run = await cli(
      'create-token',
      '--email',
      'publisher@uib.no',
      '--name',
      'too much',
      '--scopes',
      'read,admin',
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/may not hold scope\(s\): admin/);
    expect(run.stdout).not.toMatch(TOKEN);
    expect(await database.prisma.apiToken.count({ where: { user: { email: 'publisher@uib.no' } } })).toBe(0);
  });

  it('create-token makes a token with the asked scopes and expiry; list-tokens shows it without its secret; revoke-token ends it', async () => {
    await makeUser('ci@uib.no');
    const created = await cli(
      'create-token',
      '--email',
      'ci@uib.no',
      '--name',
      'deploy bot',
      '--scopes',
      'read',
      '--expires-days',
      '30',
    );
    expect(created.code, created.stderr).toBe(0);
    const token = printedToken(created);
    expect(await authenticateToken(database.prisma, token)).toMatchObject({ isAdmin: false, scopes: ['read'] });
    const record = await database.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } });
    const days = (record.expiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const listed = await cli('list-tokens', '--email', 'ci@uib.no');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/ID\s+USER\s+PREFIX\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\s+EXPIRES\s+REVOKED/);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      new RegExp(`^${record.id}\\s+ci@uib\\.no\\s+${token.slice(0, 12)}…\\s+deploy bot\\s+read\\s`),
    );
    expect(listed.stdout).not.toContain(token);

    const revoked = await cli('revoke-token', record.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked token ${record.id}`);
    expect(await authenticateToken(database.prisma, token)).toBeNull();

    const again = await cli('revoke-token', record.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already revoked');
  });

  it('create-user creates a user in an organisation; grant gives them a role, replacing the one they had', async () => {
    const channel = await database.prisma.channel.create({ data: { slug: 'bott-sa-cli', title: 'BOTT-SA' } });

    const created = await cli('create-user', '--email', 'Owner@UiB.no', '--name', 'Eier', '--org', 'UIB', '--admin');
    expect(created.code, created.stderr).toBe(0);
    const user = await database.prisma.user.findUniqueOrThrow({
      where: { email: 'owner@uib.no' },
      include: { organisation: true },
    });
    expect(user).toMatchObject({ displayName: 'Eier', isAdmin: true, organisation: { code: 'UiB' } });
    await database.prisma.channelRole.create({ data: { channelId: channel.id, userId: user.id, role: 'publisher' } });

    const granted = await cli('grant', '--email', 'owner@uib.no', '--channel', 'bott-sa-cli', '--role', 'owner');
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toContain('owner@uib.no is now owner of bott-sa-cli (was publisher)');
    const roles = await database.prisma.channelRole.findMany({ where: { channelId: channel.id } });
    expect(roles.map((r) => r.role)).toEqual(['owner']);
  });

  it('fails with exit code 1 and a clear message when the operation cannot be done', async () => {
    await makeUser('taken@uib.no');
    const [duplicate, unknownOrg, unknownChannel, unknownToken] = await Promise.all([
      cli('create-user', '--email', 'taken@uib.no', '--name', 'Again'),
      cli('create-user', '--email', 'new@ntnu.no', '--name', 'New', '--org', 'NTNU'),
      cli('grant', '--email', 'taken@uib.no', '--channel', 'no-such-channel', '--role', 'owner'),
      cli('revoke-token', '00000000-0000-4000-8000-000000000000'),
    ]);
    expect([duplicate.code, unknownOrg.code, unknownChannel.code, unknownToken.code]).toEqual([1, 1, 1, 1]);
    expect(duplicate.stderr).toContain('A user with e-mail taken@uib.no already exists');
    expect(unknownOrg.stderr).toContain('No organisation with code "NTNU" (known: UiB)');
    expect(unknownChannel.stderr).toContain('No channel with slug "no-such-channel"');
    expect(unknownToken.stderr).toContain('No token with id 00000000-0000-4000-8000-000000000000');
  });

  it('answers bad usage with exit code 2, what is wrong, and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: npm run cli -- <command>[\s\S]*create-admin/],
      [['launch-rockets'], /Unknown command "launch-rockets"[\s\S]*Commands:/],
      [['create-admin', '--email', 'a@uib.no'], /Missing --name[\s\S]*Usage: npm run cli -- create-admin --email/],
      [['create-user', '--email', 'a@uib.no', '--name', 'A', '--colour', 'blue'], /Unknown option '--colour'/],
      [['create-token', '--email', 'a@uib.no', '--name', 'x', '--scopes', 'read,root'], /unknown: root/],
      [['grant', '--email', 'a@uib.no', '--channel', 'c', '--role', 'boss'], /--role must be one of owner, publisher/],
      [['revoke-token', 'not-an-id'], /"not-an-id" is not a token id/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(...args)));
    runs.forEach((run, i) => {
      expect(run.code, `exit code of "${cases[i]![0].join(' ')}"`).toBe(2);
      expect(run.stderr).toMatch(cases[i]![1]);
    });
  });

  it("prints a command's help with exit code 0", async () => {
    const run = await cli('create-token', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run cli -- create-token --email <address> --name <token name>');
    expect(run.stdout).toContain('only administrators may hold admin');
  });

  it('reports a configuration problem with exit code 2', async () => {
    const run = await spawnCli(['list-tokens'], { DATABASE_URL: 'mysql://localhost/x' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DATABASE_URL must start with postgres:// or postgresql://');
  });

  it('seed loads the demo content once, even when two processes seed at the same moment', async () => {
    const empty = await createTestDatabase();
    try {
      const runs = await Promise.all([
        spawnCli(['seed'], { DATABASE_URL: empty.url }),
        spawnCli(['seed'], { DATABASE_URL: empty.url }),
      ]);
      expect(runs.map((r) => r.code)).toEqual([0, 0]);
      expect(runs.map((r) => r.stdout.trim()).sort()).toEqual([
        'Loaded the demo content.',
        'The database already has channels; nothing seeded.',
      ]);
      expect(await empty.prisma.channel.count()).toBe(4);
    } finally {
      await empty.drop();
    }
  });
});
