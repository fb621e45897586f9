/**
 * `npm run cli -- <command> [options]`: administration from a shell — the first admin, users, API tokens, channel
 * roles, demo content. Arguments are parsed and checked before any connection is made, so usage errors are instant.
 *
 * Exit codes: 0 done, 1 the operation failed (the message says why), 2 usage or configuration error.
 * Secrets (new API tokens) go to stdout on a line of their own; everything else is for people.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadConfigOrReport, redactUrl } from '../config.js';
import { createPrisma, type Db } from '../db/prisma.js';
import { isAppError } from '../domain/errors.js';
import { CHANNEL_ROLES, type ChannelRoleKind, TOKEN_SCOPES, type TokenScope } from '../domain/types.js';
import { generateVapidKeys } from '../push/sender.js';
import { seedDemoContent } from '../services/seed.js';
import { type CreatedToken, createApiToken, listApiTokens, revokeApiToken } from '../services/tokens.js';
import { createUser, ensureAdmin, findUserByEmail, grantChannelRole } from '../services/users.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const MAX_EXPIRES_DAYS = 3650;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Bad arguments: reported with the command's usage, exit code 2. */
class UsageError extends Error {}

/** An operation that could not be done, reported without a stack: exit code 1. */
class Failure extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

interface Command {
  summary: string;
  usage: string;
  details: string;
  options: Options;
  /** Names of the positional arguments, in order; all required. */
  positionals?: string[];
  /** Required options, checked before connecting. */
  required?: string[];
  /** Checks option values that need no database (throws UsageError), also before connecting. */
  check?(values: Values, positionals: string[]): void;
  run?(db: Db, values: Values, positionals: string[], io: Output): Promise<void>;
  /** For commands that need neither the configuration nor the database (run instead of `run`). */
  offline?(values: Values, positionals: string[], io: Output): void;
}

const text = (values: Values, name: string): string => values[name] as string;
const optionalText = (values: Values, name: string): string | undefined => values[name] as string | undefined;

function parseScopes(raw: string | undefined): TokenScope[] | undefined {
  if (raw === undefined) return undefined;
  const scopes = [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--scopes must be a comma-separated list of ${TOKEN_SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  }
  return scopes as TokenScope[];
}

function parseExpiresDays(raw: string | undefined): Date | null {
  if (raw === undefined) return null;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_EXPIRES_DAYS) {
    throw new UsageError(`--expires-days must be a whole number of days from 1 to ${MAX_EXPIRES_DAYS}, got "${raw}"`);
  }
  return new Date(Date.now() + Number(raw) * 86_400_000);
}

function parseRole(raw: string): ChannelRoleKind {
  if (!(CHANNEL_ROLES as readonly string[]).includes(raw)) {
    throw new UsageError(`--role must be one of ${CHANNEL_ROLES.join(', ')}, got "${raw}"`);
  }
  return raw as ChannelRoleKind;
}

function printToken(io: Output, token: CreatedToken, name: string): void {
  const expiry = token.expiresAt ? `expires ${formatDate(token.expiresAt)}` : 'never expires';
  io.out(`API token "${name}" (id ${token.id}; scopes ${token.scopes.join(', ')}; ${expiry}):`);
  io.out('');
  io.out(token.token);
  io.out('');
  io.out('Store it now: it is shown only this once (only its hash is kept).');
}

function formatDate(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-';
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const COMMANDS: Record<string, Command> = {
  'create-admin': {
    summary: 'create (or promote) an administrator and print a new API token with every scope',
    usage: 'create-admin --email <address> --name <display name> [--org <code>] [--token-name <name>]',
    details:
      'An existing user with that address is promoted (their name is kept). --org sets their organisation\n' +
      '(UiB, UiO, UiT, NTNU…). The token carries the scopes read, publish and admin and is shown once.',
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      org: { type: 'string' },
      'token-name': { type: 'string' },
    },
    required: ['email', 'name'],
    async run(db, values, _positionals, io) {
      const { user, outcome } = await ensureAdmin(db, {
        email: text(values, 'email'),
        displayName: text(values, 'name'),
        organisationCode: optionalText(values, 'org'),
      });
      const what = {
        created: 'Created administrator',
        promoted: 'Promoted to administrator',
        'already-admin': 'Administrator',
      };
      io.out(
        `${what[outcome]} ${user.email} (${user.displayName}${user.organisationCode ? `, ${user.organisationCode}` : ''}).`,
      );
      const tokenName = optionalText(values, 'token-name') ?? 'admin (created by the command-line tool)';
      const token = await createApiToken(db, { userId: user.id, name: tokenName, scopes: [...TOKEN_SCOPES] });
      printToken(io, token, tokenName);
    },
  },

  'create-user': {
    summary: 'create a user',
    usage: 'create-user --email <address> --name <display name> [--org <code>] [--admin]',
    details: 'Fails when a user with that address exists. --admin makes the user an administrator.',
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      org: { type: 'string' },
      admin: { type: 'boolean' },
    },
    required: ['email', 'name'],
    async run(db, values, _positionals, io) {
      const user = await createUser(db, {
        email: text(values, 'email'),
        displayName: text(values, 'name'),
        organisationCode: optionalText(values, 'org'),
        isAdmin: values.admin === true,
      });
      io.out(
        `Created ${user.isAdmin ? 'administrator' : 'user'} ${user.email} (${user.displayName}${user.organisationCode ? `, ${user.organisationCode}` : ''}), id ${user.id}.`,
      );
    },
  },

  'create-token': {
    summary: 'create an API token for a user and print it once',
    usage: 'create-token --email <address> --name <token name> [--scopes read,publish] [--expires-days <n>]',
    details:
      `Scopes: ${TOKEN_SCOPES.join(', ')} (default: all the user may hold; only administrators may hold admin).\n` +
      `--expires-days: 1–${MAX_EXPIRES_DAYS}; without it the token does not expire.`,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      'expires-days': { type: 'string' },
    },
    required: ['email', 'name'],
    check(values) {
      parseScopes(optionalText(values, 'scopes'));
      parseExpiresDays(optionalText(values, 'expires-days'));
      if (!text(values, 'name').trim()) throw new UsageError('--name must not be blank');
    },
    async run(db, values, _positionals, io) {
      const scopes = parseScopes(optionalText(values, 'scopes'));
      const expiresAt = parseExpiresDays(optionalText(values, 'expires-days'));
      const name = text(values, 'name').trim();
      const user = await findUserByEmail(db, text(values, 'email'));
      const token = await createApiToken(db, { userId: user.id, name, scopes, expiresAt });
      io.out(`Created for ${user.email}.`);
      printToken(io, token, name);
    },
  },

  'list-tokens': {
    summary: 'list API tokens (never their secrets)',
    usage: 'list-tokens [--email <address>]',
    details: 'Lists every token, or only those of one user. Use the id with revoke-token.',
    options: { email: { type: 'string' } },
    async run(db, values, _positionals, io) {
      const email = optionalText(values, 'email');
      const userId = email ? (await findUserByEmail(db, email)).id : undefined;
      const tokens = await listApiTokens(db, userId);
      if (tokens.length === 0) {
        io.out(email ? `No API tokens for ${email}.` : 'No API tokens.');
        return;
      }
      const rows = tokens.map((t) => [
        t.id,
        t.user.email ?? '-',
        `${t.prefix}…`,
        t.name,
        t.scopes.join(','),
        formatDate(t.createdAt),
        formatDate(t.lastUsedAt),
        formatDate(t.expiresAt),
        formatDate(t.revokedAt),
      ]);
      const header = ['ID', 'USER', 'PREFIX', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'EXPIRES', 'REVOKED'];
      for (const line of table(header, rows)) io.out(line);
    },
  },

  'revoke-token': {
    summary: 'revoke an API token by id (see list-tokens)',
    usage: 'revoke-token <id>',
    details: 'The token stops working at once. Revoking cannot be undone.',
    options: {},
    positionals: ['id'],
    check(_values, [id]) {
      if (!UUID_PATTERN.test(id!)) throw new UsageError(`"${id}" is not a token id (list-tokens shows them)`);
    },
    async run(db, _values, [id], io) {
      if (await revokeApiToken(db, id!)) {
        io.out(`Revoked token ${id}.`);
        return;
      }
      const token = await db.apiToken.findUnique({ where: { id: id! }, select: { revokedAt: true } });
      throw new Failure(
        token ? `Token ${id} was already revoked (${formatDate(token.revokedAt)})` : `No token with id ${id}`,
      );
    },
  },

  grant: {
    summary: 'give a user a role in a channel',
    usage: `grant --email <address> --channel <slug> --role ${CHANNEL_ROLES.join('|')}`,
    details: 'owner: may publish and manage the channel; publisher: may publish. Replaces any role the user had there.',
    options: { email: { type: 'string' }, channel: { type: 'string' }, role: { type: 'string' } },
    required: ['email', 'channel', 'role'],
    check(values) {
      parseRole(text(values, 'role'));
    },
    async run(db, values, _positionals, io) {
      const role = parseRole(text(values, 'role'));
      const result = await grantChannelRole(db, {
        email: text(values, 'email'),
        channelSlug: text(values, 'channel'),
        role,
      });
      const was = result.previousRole && result.previousRole !== role ? ` (was ${result.previousRole})` : '';
      io.out(`${result.user.email} is now ${role} of ${result.channelSlug}${was}.`);
    },
  },

  'vapid-keys': {
    summary: 'print a fresh VAPID key pair for web push',
    usage: 'vapid-keys',
    details:
      'Prints VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY lines for the environment (set VAPID_SUBJECT too). Keep the private ' +
      'key secret. Changing keys later ends every browser subscription: browsers subscribed with the old public key.',
    options: {},
    offline(_values, _positionals, io) {
      const keys = generateVapidKeys();
      io.out(`VAPID_PUBLIC_KEY=${keys.publicKey}`);
      io.out(`VAPID_PRIVATE_KEY=${keys.privateKey}`);
    },
  },

  seed: {
    summary: 'load the demo content (organisations, BOTT channels, announcements) into an empty database',
    usage: 'seed',
    details: 'Does nothing when the database already has channels.',
    options: {},
    async run(db, _values, _positionals, io) {
      const { created } = await seedDemoContent(db);
      io.out(created ? 'Loaded the demo content.' : 'The database already has channels; nothing seeded.');
    },
  },
};

function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'Usage: npm run cli -- <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run cli -- <command> --help` for its options. The database is DATABASE_URL (see the README).',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `Usage: npm run cli -- ${command.usage}`,
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    command.details,
  ].join('\n');
}

async function runCli(argv: string[], env: Record<string, string | undefined>, io: Output): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(generalHelp());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(generalHelp());
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`Unknown command "${name}".\n\n${generalHelp()}`);
    return EXIT_USAGE;
  }

  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values as Values;
    positionals = parsed.positionals;
    if (values.help) {
      io.out(commandHelp(command));
      return EXIT_OK;
    }
    const expected = command.positionals ?? [];
    if (positionals.length !== expected.length) {
      throw new UsageError(
        expected.length === 0
          ? `${name} takes no positional arguments (got ${positionals.map((p) => `"${p}"`).join(' ')})`
          : `${name} needs ${expected.map((p) => `<${p}>`).join(' ')}`,
      );
    }
    const missing = (command.required ?? []).filter((option) => values[option] === undefined);
    if (missing.length > 0) throw new UsageError(`Missing ${missing.map((m) => `--${m}`).join(', ')}`);
    command.check?.(values, positionals);
  } catch (error) {
    // parseArgs reports unknown options and missing values with codes ERR_PARSE_ARGS_*.
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.err(
        `${(error as Error).message}\n\nUsage: npm run cli -- ${command.usage}\n(npm run cli -- ${name} --help for more)`,
      );
      return EXIT_USAGE;
    }
    throw error;
  }

  if (command.offline) {
    command.offline(values, positionals, io);
    return EXIT_OK;
  }

  const config = loadConfigOrReport(env, io.err);
  if (!config) return EXIT_USAGE;

  const db = createPrisma({ url: config.database.url, poolSize: 2 });
  try {
    await command.run!(db, values, positionals, io);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\nUsage: npm run cli -- ${command.usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof Failure || isAppError(error)) {
      io.err(`Error: ${error.message}`);
      return EXIT_FAILURE;
    }
    // Prisma's messages start with a multi-line excerpt of our source; the cause is on the last line.
    const message = String((error as Error).message ?? error).trim();
    const cause = message.split('\n').filter(Boolean).at(-1) ?? message;
    io.err(`Error: ${name} failed: ${cause} (database ${redactUrl(config.database.url)})`);
    return EXIT_FAILURE;
  } finally {
    await db.$disconnect();
  }
}

process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
