/**
 * Benchmark data, written straight into the benchmark's database with set-based SQL (generate_series): 100,000
 * subscribers take seconds this way, where the API would take minutes. The rows are the ones the API itself would
 * write (the same tables and columns; tokens hashed by src/services/tokens.ts).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashToken, TOKEN_PREFIX } from '../../src/services/tokens.js';

/** An announcement body as publishers write them: a few paragraphs of Markdown, a list, a link (about 900 bytes). */
export const BENCH_BODY = [
  'Tjenesten **BOTT SA lønn** er utilgjengelig under vedlikeholdet. Vi oppgraderer databasen og innfører nye',
  'rutiner for sikkerhetskopi, slik at nattkjøringene blir raskere og tryggere.',
  '',
  'Dette berører:',
  '',
  '- registrering av timer og fravær',
  '- attestasjon og godkjenning av reiseregninger',
  '- rapporter i _Innsikt_ som henter lønnsdata',
  '',
  'Vi anbefaler at dere sender inn det som haster før fredag kl. 15. Spørsmål kan stilles i',
  '[brukerforumet](https://bott.example.org/forum) eller til brukerstøtte ved egen institusjon.',
  '',
  'Etter vedlikeholdet må noen logge inn på nytt. Lagrede utkast blir ikke berørt, og ingen data går tapt.',
  'Takk for tålmodigheten!',
].join('\n');

export const BENCH_BODY_EN = [
  'The **BOTT SA payroll** service is unavailable during the maintenance. We are upgrading the database and',
  'introducing new backup routines, so that the nightly runs become faster and safer.',
  '',
  'This affects:',
  '',
  '- registering hours and absence',
  '- approving travel expense claims',
  '- reports in _Innsikt_ that read payroll data',
  '',
  'Please submit anything urgent before Friday at 15:00. Ask in the [forum](https://bott.example.org/forum).',
].join('\n');

export interface BenchPublisher {
  userId: string;
  /** A bearer token with scopes read, publish and admin. */
  token: string;
}

/** The four BOTT organisations; returns id by code. */
export async function seedOrganisations(pool: pg.Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; code: string }>(
    `INSERT INTO "Organisation" (id, code, name, realm)
     SELECT gen_random_uuid(), code, 'Universitetet ' || code, lower(code) || '.no'
       FROM unnest(ARRAY['UiB', 'UiO', 'UiT', 'NTNU']) AS code
     RETURNING id, code`,
  );
  return new Map(rows.map((row) => [row.code, row.id]));
}

/** An administrator with an API token (all scopes), as `create-admin` makes one. */
export async function seedPublisher(pool: pg.Pool): Promise<BenchPublisher> {
  const {
    rows: [user],
  } = await pool.query<{ id: string }>(
    `INSERT INTO "User" (id, email, "displayName", "isAdmin", "updatedAt")
     VALUES (gen_random_uuid(), 'bench-admin@example.org', 'Bench publisher', true, now()) RETURNING id`,
  );
  const token = `${TOKEN_PREFIX}${randomBytes(30).toString('base64url')}`;
  await pool.query(
    `INSERT INTO "ApiToken" (id, "userId", name, prefix, "tokenHash", scopes, "createdAt")
     VALUES (gen_random_uuid(), $1, 'bench', $2, $3, ARRAY['read', 'publish', 'admin'], now())`,
    [user!.id, token.slice(0, 12), hashToken(token)],
  );
  return { userId: user!.id, token };
}

export async function seedChannel(
  pool: pg.Pool,
  slug: string,
  options: { visibility?: 'public' | 'internal' | 'restricted'; organisationId?: string } = {},
): Promise<string> {
  const {
    rows: [channel],
  } = await pool.query<{ id: string }>(
    `INSERT INTO "Channel" (id, slug, title, description, visibility, "organisationId", "updatedAt")
     VALUES (gen_random_uuid(), $1, $2, 'Driftsmeldinger og nyheter (benchmark)', $3, $4, now()) RETURNING id`,
    [slug, `BOTT ${slug}`, options.visibility ?? 'public', options.organisationId ?? null],
  );
  return channel!.id;
}

/**
 * `count` published announcements in a channel, one a minute going back from `newestAt` (default now), by `authorId`:
 * every second one with an English translation, every fifth one for `limitedTo`'s members only (when given).
 */
export async function seedAnnouncements(
  pool: pg.Pool,
  channelId: string,
  count: number,
  options: { authorId: string; limitedTo?: string; newestAt?: Date },
): Promise<void> {
  const newestAt = (options.newestAt ?? new Date()).toISOString();
  await pool.query(
    `WITH made AS (
       INSERT INTO "Announcement" (id, "channelId", "authorId", title, body, summary, importance, status,
                                   "publishedAt", "createdAt", "updatedAt", language, type, "audienceOrganisationIds")
       SELECT gen_random_uuid(), $1, $2, 'Planlagt vedlikehold nr. ' || n, $3,
              CASE WHEN n % 3 = 0 THEN 'Lønn er stengt lørdag 10–14.' END,
              (CASE WHEN n % 10 = 0 THEN 'important' ELSE 'info' END)::"Importance", 'published',
              $7::timestamptz - make_interval(mins => n), $7::timestamptz - make_interval(mins => n),
              $7::timestamptz - make_interval(mins => n),
              'nb', 'general',
              CASE WHEN $5::uuid IS NOT NULL AND n % 5 = 0 THEN ARRAY[$5::uuid] ELSE ARRAY[]::uuid[] END
         FROM generate_series(1, $4::int) AS n
       RETURNING id, title
     )
     INSERT INTO "AnnouncementTranslation" ("announcementId", language, title, body)
     SELECT id, 'en', 'Planned maintenance ' || split_part(title, 'nr. ', 2), $6
       FROM made WHERE split_part(title, 'nr. ', 2)::int % 2 = 0`,
    [channelId, options.authorId, BENCH_BODY, count, options.limitedTo ?? null, BENCH_BODY_EN, newestAt],
  );
}

/**
 * `count` confirmed subscribers of a channel in `mode`: half of them people with accounts (every fourth in English),
 * half bare e-mail addresses (imported, confirmed). Addresses are `sub-<tag>-<n>@bench.example.org`, created a day ago.
 */
export async function seedSubscribers(
  pool: pg.Pool,
  channelId: string,
  count: number,
  options: { tag: string; mode?: 'immediate' | 'daily' | 'weekly'; createdAt?: Date },
): Promise<void> {
  const createdAt = (options.createdAt ?? new Date(Date.now() - 86_400_000)).toISOString();
  const mode = options.mode ?? 'immediate';
  const users = Math.floor(count / 2);
  const address = `'sub-${options.tag.replace(/[^a-z0-9]/g, '')}-' || n || '@bench.example.org'`;
  await pool.query(
    `WITH people AS (
       INSERT INTO "User" (id, email, "displayName", language, "updatedAt")
       SELECT gen_random_uuid(), ${address}, 'Subscriber ' || n,
              (CASE WHEN n % 4 = 0 THEN 'en' ELSE 'nb' END)::"Language", now()
         FROM generate_series(1, $2::int) AS n
       RETURNING id, language
     )
     INSERT INTO "Subscription" ("channelId", "userId", "emailMode", language, "confirmedAt", source, "createdAt", "updatedAt")
     SELECT $1, id, $3::"EmailMode", language, $4::timestamptz, 'account', $4::timestamptz, now() FROM people`,
    [channelId, users, mode, createdAt],
  );
  await pool.query(
    `INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", source, "createdAt", "updatedAt")
     SELECT $1, ${address}, $3::"EmailMode", 'nb', $4::timestamptz, 'import', $4::timestamptz, now()
       FROM generate_series($2::int + 1, $5::int) AS n`,
    [channelId, users, mode, createdAt, count],
  );
  await pool.query('ANALYZE');
}
