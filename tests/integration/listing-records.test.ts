/**
 * A channel listing's page (src/db/reading.ts channelListingPage) reads a listing-specific column set instead of the
 * full record. Its views must be exactly what the full loader gives (loadAnnouncementRecords + readingStats +
 * announcementView, which is what the listing was built from before): on a channel with several languages,
 * audiences (one naming an organisation that no longer exists), pinned items (one pin over), attachments, edits,
 * an incident and its follow-up, a maintenance window, acknowledgements, ratings, viewers, a former user's item,
 * and retracted, draft, scheduled and expired ones; for readers of every kind in every language, over every keyset
 * page, with and without the archive. Which items a page holds is checked against the domain rules.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnnouncementRecord } from '../../src/db/announcement-records.js';
import type { Db } from '../../src/db/prisma.js';
import { readingStats } from '../../src/db/reading.js';
import { audienceScope, isExpired, isInAudienceScope } from '../../src/domain/announcement.js';
import { type Actor, ANONYMOUS, type Language, TOKEN_SCOPES } from '../../src/domain/types.js';
import { listChannelAnnouncements } from '../../src/services/announcements.js';
import { type AnnouncementView, announcementView } from '../../src/services/views.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

const PUBLIC_URL = 'https://meldinger.example.org';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let ctx: TestContext;
let db: Db;

interface Seeded {
  id: string;
  status: 'published' | 'retracted' | 'draft' | 'scheduled';
  audience: string[];
  publishedAt: Date | null;
  expiresAt: Date | null;
  pinnedAt: Date | null;
  pinnedUntil: Date | null;
}
const seeded: Seeded[] = [];
const readers: { name: string; actor: Actor; editor: boolean }[] = [];
const SLUG = 'listing-records';

beforeAll(async () => {
  ctx = await createTestContext();
  db = ctx.deps.db;
  const [uib, uio, uit] = await Promise.all(
    ['UiB', 'UiO', 'UiT'].map((code) =>
      db.organisation.create({ data: { code, name: code, realm: `${code.toLowerCase()}.example.no` } }),
    ),
  );
  const user = async (displayName: string, organisationId: string | null, isAdmin = false) =>
    (await db.user.create({ data: { displayName, organisationId, isAdmin } })).id;
  const author = await user('Kari Nordmann', uib!.id);
  const memberUio = await user('UiO reader', uio!.id);
  const memberUit = await user('UiT reader', uit!.id);
  const publisher = await user('Publisher', uit!.id);
  const admin = await user('Admin', null, true);
  const asUser = (userId: string, organisationId: string | null, isAdmin = false): Actor => ({
    kind: 'user',
    userId,
    organisationId,
    isAdmin,
    scopes: TOKEN_SCOPES,
  });
  readers.push(
    { name: 'anonymous', actor: ANONYMOUS, editor: false },
    { name: 'UiO member', actor: asUser(memberUio, uio!.id), editor: false },
    { name: 'UiT member', actor: asUser(memberUit, uit!.id), editor: false },
    { name: 'publisher (UiT)', actor: asUser(publisher, uit!.id), editor: true },
    { name: 'administrator', actor: asUser(admin, null, true), editor: true },
  );

  const channel = await db.channel.create({ data: { slug: SLUG, title: 'Listing', visibility: 'public' } });
  await db.channelRole.create({ data: { channelId: channel.id, userId: publisher, role: 'publisher' } });

  const now = Date.now();
  const gone = randomUUID();
  let minute = 0;
  const add = async (data: {
    status?: Seeded['status'];
    language?: Language;
    translations?: { language: Language; title: string; summary?: string | null; body: string }[];
    audience?: string[];
    expiresAt?: Date | null;
    pinnedAt?: Date | null;
    pinnedUntil?: Date | null;
    extra?: Record<string, unknown>;
    authorId?: string | null;
    sameTimeAsPrevious?: boolean;
  }) => {
    if (!data.sameTimeAsPrevious) minute += 1;
    const status = data.status ?? 'published';
    const publishedAt = status === 'draft' || status === 'scheduled' ? null : new Date(now - minute * MINUTE);
    const id = randomUUID();
    await db.announcement.create({
      data: {
        id,
        channelId: channel.id,
        authorId: data.authorId === undefined ? author : data.authorId,
        title: `Melding ${minute} «${status}»`,
        body: `Tekst **${minute}** med [lenke](https://example.org/${minute}) og <b>HTML</b> & "sitat"`,
        summary: minute % 2 === 0 ? `Kort ${minute}` : null,
        importance: (['info', 'important', 'critical'] as const)[minute % 3],
        status,
        language: data.language ?? 'nb',
        publishedAt,
        audienceOrganisationIds: data.audience ?? [],
        expiresAt: data.expiresAt ?? null,
        pinnedAt: data.pinnedAt ?? null,
        pinnedUntil: data.pinnedUntil ?? null,
        ...(data.extra ?? {}),
        translations: { create: data.translations ?? [] },
      },
    });
    seeded.push({
      id,
      status,
      audience: data.audience ?? [],
      publishedAt,
      expiresAt: data.expiresAt ?? null,
      pinnedAt: data.pinnedAt ?? null,
      pinnedUntil: data.pinnedUntil ?? null,
    });
    return id;
  };

  await add({ translations: [{ language: 'en', title: 'Message', summary: 'Short', body: 'Text in *English*' }] });
  await add({
    language: 'en',
    translations: [
      { language: 'nn', title: 'Melding nn', body: 'Tekst på nynorsk' },
      { language: 'nb', title: 'Melding nb', summary: 'Kort nb', body: 'Tekst på bokmål' },
    ],
    audience: [uio!.id],
  });
  await add({ language: 'nn', audience: [uit!.id, uib!.id] });
  await add({ audience: [gone, uio!.id] });
  const incident = await add({ extra: { type: 'incident', affectedSystem: 'Lønn' } });
  await add({ extra: { type: 'incident', resolvesId: incident } });
  const unresolved = await add({ extra: { type: 'incident', affectedSystem: 'Epost' } });
  await add({ status: 'draft', extra: { type: 'incident', resolvesId: unresolved } });
  await add({
    extra: {
      type: 'maintenance',
      affectedSystem: 'BOTT SA',
      startsAt: new Date(now + 24 * HOUR),
      endsAt: new Date(now + 26 * HOUR),
      publishAt: new Date(now - 20 * MINUTE),
    },
  });
  await add({ extra: { revision: 3, editedAt: new Date(now - 5 * MINUTE) }, sameTimeAsPrevious: true });
  await add({ extra: { ackRequired: true, ackDeadline: new Date(now + 48 * HOUR) }, audience: [uit!.id] });
  await add({ authorId: null });
  await add({ status: 'retracted', extra: { retractedAt: new Date(now - 2 * MINUTE) } });
  await add({ status: 'scheduled', extra: { publishAt: new Date(now + HOUR) } });
  await add({ expiresAt: new Date(now - 10 * MINUTE) });
  await add({ expiresAt: new Date(now + 10 * HOUR), audience: [uio!.id] });
  await add({ pinnedAt: new Date(now - 3 * MINUTE) });
  await add({ pinnedAt: new Date(now - 4 * MINUTE), pinnedUntil: new Date(now + HOUR), audience: [uio!.id] });
  await add({ pinnedAt: new Date(now - 9 * MINUTE), pinnedUntil: new Date(now - MINUTE) });
  const withFiles = await add({ translations: [{ language: 'en', title: 'Files', body: 'See the files' }] });
  for (let i = 0; i < 22; i += 1) await add({ audience: i % 4 === 0 ? [uib!.id] : [] });

  for (const [index, filename] of ['b.pdf', 'a æøå.png', 'c.txt'].entries()) {
    await db.attachment.create({
      data: {
        id: randomUUID(),
        announcementId: index === 2 ? seeded[0]!.id : withFiles,
        filename,
        contentType: filename.endsWith('.pdf') ? 'application/pdf' : 'image/png',
        size: 1000 + index,
        sha256: 'a'.repeat(64),
        storage: 'database',
        data: Buffer.from('x'),
        createdAt: new Date(now - (10 - index) * MINUTE),
      },
    });
  }
  const rated = [seeded[0]!.id, seeded[1]!.id, withFiles];
  for (const [index, userId] of [memberUio, memberUit, publisher].entries()) {
    for (const announcementId of rated.slice(0, index + 1)) {
      await db.announcementRating.create({ data: { userId, announcementId, stars: index + 2 } });
    }
  }
  for (const viewerKey of ['v1', 'v2', 'v3']) {
    await db.announcementViewer.create({ data: { announcementId: seeded[0]!.id, viewerKey } });
  }
  await db.announcementViewer.create({ data: { announcementId: withFiles, viewerKey: 'v1' } });
}, 120_000);

afterAll(async () => {
  await ctx?.close();
});

/** The view the full loader gives for `id`, as the listing built it before. */
async function referenceView(id: string, language: Language | null, now: Date): Promise<AnnouncementView> {
  const record = await loadAnnouncementRecord(db, id);
  if (!record) throw new Error(`no record ${id}`);
  const stats = (await readingStats(db, [id])).get(id)!;
  return announcementView(record, {
    publicUrl: PUBLIC_URL,
    language,
    now,
    stats: { rating: { average: stats.average, votes: stats.votes }, views: stats.views },
  });
}

function byNewest(a: Seeded, b: Seeded): number {
  return b.publishedAt!.getTime() - a.publishedAt!.getTime() || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

describe('channel listing pages', () => {
  for (const archive of [false, true]) {
    for (const language of [null, 'nb', 'nn', 'en'] as const) {
      it(`are the full loader's views, for every reader (language ${language ?? 'none'}, archive ${archive})`, async () => {
        for (const reader of readers) {
          const now = new Date();
          const scope = audienceScope(reader.actor);
          const visible = seeded.filter(
            (item) =>
              item.status === 'published' &&
              isInAudienceScope(scope, item.audience, reader.editor ? 'publisher' : null) &&
              (archive || !isExpired(item, now)),
          );
          const isPinned = (item: Seeded) =>
            item.pinnedAt !== null && (item.pinnedUntil === null || item.pinnedUntil > now);
          const expectedPinned = visible
            .filter(isPinned)
            .sort((a, b) => b.pinnedAt!.getTime() - a.pinnedAt!.getTime())
            .map((item) => item.id);
          const expectedRest = visible
            .filter((item) => !isPinned(item))
            .sort(byNewest)
            .map((item) => item.id);

          const pinned: string[] = [];
          const rest: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await listChannelAnnouncements({ db, publicUrl: PUBLIC_URL }, reader.actor, SLUG, {
              limit: 4,
              archive,
              readerLanguage: language,
              ...(cursor ? { cursor } : {}),
            });
            pages += 1;
            for (const item of page.items) {
              const reference = await referenceView(item.id, language, now);
              const expected = item.pinned ? { ...reference, pinned: true } : reference;
              // Byte for byte: the same fields, values and key order as the full loader's view.
              expect(JSON.stringify(item), `${reader.name}, ${item.id}`).toBe(JSON.stringify(expected));
              (item.pinned ? pinned : rest).push(item.id);
            }
            expect(page.items.filter((item) => !item.pinned).length).toBeLessThanOrEqual(4);
            cursor = page.nextCursor ?? undefined;
          } while (cursor && pages < 50);
          expect(pinned, reader.name).toEqual(expectedPinned);
          expect(rest, reader.name).toEqual(expectedRest);
        }
      });
    }
  }

  it('cover what the test means to: translations, audiences, attachments, stats, follow-ups, edits', async () => {
    const admin = readers.find((reader) => reader.name === 'administrator')!.actor;
    const items: AnnouncementView[] = [];
    let cursor: string | undefined;
    do {
      const page = await listChannelAnnouncements({ db, publicUrl: PUBLIC_URL }, admin, SLUG, {
        limit: 50,
        archive: true,
        readerLanguage: 'en',
        ...(cursor ? { cursor } : {}),
      });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(items.some((item) => item.languages.length === 3)).toBe(true);
    expect(items.some((item) => item.audience.length === 2 && item.audience[0] === 'UiB')).toBe(true);
    expect(items.some((item) => item.audience.some((code) => /^[0-9a-f-]{36}$/.test(code)))).toBe(true);
    expect(items.some((item) => item.attachments.length === 2)).toBe(true);
    expect(items.some((item) => item.resolvedBy !== null)).toBe(true);
    expect(items.some((item) => item.revision === 3 && item.editedAt !== null)).toBe(true);
    expect(items.some((item) => item.author === null)).toBe(true);
    expect(items.some((item) => item.expired)).toBe(true);
    expect(items.some((item) => item.rating?.votes === 3 && item.views === 3)).toBe(true);
    expect(items.some((item) => item.acknowledgement.required)).toBe(true);
    expect(items.some((item) => item.calendarUrl !== null && item.startsAt !== null)).toBe(true);
    expect(items.filter((item) => item.pinned).length).toBe(2);
  });
});
