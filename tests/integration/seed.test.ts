/** Demo content (src/services/seed.ts): loaded once, never twice, even by two processes at once; no personal names. */
import { afterAll, describe, expect, it } from 'vitest';
import { createPrisma, type Db } from '../../src/db/prisma.js';
import { DEMO_ANNOUNCEMENTS, DEMO_AUTHOR_NAME, DEMO_CHANNELS, seedDemoContent } from '../../src/services/seed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const databases: TestDatabase[] = [];
const extraClients: Db[] = [];
afterAll(async () => {
  await Promise.all(extraClients.map((client) => client.$disconnect()));
  await Promise.all(databases.map((database) => database.drop()));
});

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

async function counts(db: Db) {
  const [organisations, channels, announcements, outboxEvents] = await Promise.all([
    db.organisation.count(),
    db.channel.count(),
    db.announcement.count(),
    db.outboxEvent.count(),
  ]);
  return { organisations, channels, announcements, outboxEvents };
}

describe('seedDemoContent', () => {
  it('loads the four organisations, the BOTT channels and announcements in bokmål', async () => {
    const { prisma: db } = await freshDatabase();

    expect(await seedDemoContent(db)).toEqual({ created: true });

    const organisations = await db.organisation.findMany({
      orderBy: { code: 'asc' },
      select: { code: true, name: true, realm: true },
    });
    expect(organisations).toEqual([
      { code: 'NTNU', name: 'Norges teknisk-naturvitenskapelige universitet', realm: 'ntnu.no' },
      { code: 'UiB', name: 'Universitetet i Bergen', realm: 'uib.no' },
      { code: 'UiO', name: 'Universitetet i Oslo', realm: 'uio.no' },
      { code: 'UiT', name: 'UiT Norges arktiske universitet', realm: 'uit.no' },
    ]);

    const channels = await db.channel.findMany({ orderBy: { slug: 'asc' } });
    expect(channels.map((c) => [c.slug, c.title, c.visibility])).toEqual([
      ['bott-informasjon', 'BOTT-samarbeidet', 'public'],
      ['bott-okonomi-og-lonn', 'BOTT Økonomi og lønn', 'public'],
      ['bott-sa', 'BOTT saksbehandling og arkiv', 'public'],
      ['bott-tilgangsstyring', 'BOTT tilgangsstyring', 'public'],
    ]);
    const description = (slug: string) => channels.find((c) => c.slug === slug)!.description;
    expect(description('bott-informasjon')).toContain(
      'samarbeid mellom universitetene i Bergen, Oslo, Tromsø og Trondheim',
    );
    expect(description('bott-sa')).toContain('automatisk arkivering og journalføring');
    expect(description('bott-okonomi-og-lonn')).toContain('Direktoratet for økonomistyring (DFØ)');
    expect(description('bott-tilgangsstyring')).toBe(
      'Fellesløsning for identitets- og tilgangsstyring (IAM) for UH-sektoren.',
    );

    const announcements = await db.announcement.findMany({
      include: { channel: { select: { slug: true } } },
      orderBy: [{ publishedAt: 'desc' }, { id: 'desc' }],
    });
    expect(announcements).toHaveLength(DEMO_ANNOUNCEMENTS.length);
    // Written by the secretariat, a name without a sign-in identity or an address (not "a former user").
    const author = await db.user.findFirstOrThrow({ where: { displayName: DEMO_AUTHOR_NAME } });
    expect(author).toMatchObject({ email: null, oidcIssuer: null, oidcSubject: null, isAdmin: false });
    expect(
      announcements.every((a) => a.status === 'published' && a.publishedAt !== null && a.authorId === author.id),
    ).toBe(true);
    expect(announcements[0]!.title).toBe('Målbilde for administrative systemer');
    expect(announcements[0]!.body).toContain('Effektive tjenester og frigjorte ressurser gjennom digitalisering.');
    const schedule = announcements.find((a) => a.title === 'Tidsplan for felles økonomi- og lønnstjeneste')!;
    expect(schedule.channel.slug).toBe('bott-okonomi-og-lonn');
    expect(schedule.body).toContain('fra januar 2021');
    expect(schedule.body).toContain('fra januar 2022');
    expect(announcements.find((a) => a.title.startsWith('IAM-prosjektet'))?.body).toContain('(IAM)');
    // The demo shows the richer content model: language versions, a summary, a maintenance window.
    const about = await db.announcement.findFirstOrThrow({
      where: { title: 'Om BOTT-samarbeidet' },
      include: { translations: { orderBy: { language: 'asc' } } },
    });
    expect([about.language, ...about.translations.map((t) => t.language)]).toEqual(['nb', 'nn', 'en']);
    expect(about.summary).toContain('Bergen, Oslo, Tromsø og Trondheim');
    const maintenance = announcements.find((a) => a.type === 'maintenance')!;
    expect(maintenance.affectedSystem).toBe('Innlogging (IAM)');
    expect(maintenance.endsAt!.getTime() - maintenance.startsAt!.getTime()).toBe(2 * 3_600_000);
    // Each has its first revision, as published announcements do.
    const revisions = await db.announcementRevision.findMany({ where: { revision: 1 } });
    expect(new Set(revisions.map((r) => r.announcementId))).toEqual(new Set(announcements.map((a) => a.id)));
    // Every channel has something to show.
    expect(new Set(announcements.map((a) => a.channel.slug))).toEqual(new Set(DEMO_CHANNELS.map((c) => c.slug)));
    // History for the demo, not news: nothing for the outbox relay to fan out.
    expect(await db.outboxEvent.count()).toBe(0);
  });

  it('does nothing the second time', async () => {
    const { prisma: db } = await freshDatabase();
    await seedDemoContent(db);
    const before = await counts(db);

    expect(await seedDemoContent(db)).toEqual({ created: false });
    expect(await counts(db)).toEqual(before);
  });

  it('does nothing when an operator already created a channel', async () => {
    const { prisma: db } = await freshDatabase();
    await db.channel.create({ data: { slug: 'egen-kanal', title: 'Egen kanal' } });

    expect(await seedDemoContent(db)).toEqual({ created: false });
    expect(await counts(db)).toEqual({ organisations: 0, channels: 1, announcements: 0, outboxEvents: 0 });
  });

  it('creates the content once when two processes seed at the same moment', async () => {
    const database = await freshDatabase();
    // Separate clients (separate connection pools), as two starting processes would have.
    const clients = [
      createPrisma({ url: database.url, poolSize: 2 }),
      createPrisma({ url: database.url, poolSize: 2 }),
    ];
    extraClients.push(...clients);

    const results = await Promise.all(clients.map((client) => seedDemoContent(client)));

    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(await counts(database.prisma)).toEqual({
      organisations: 4,
      channels: DEMO_CHANNELS.length,
      announcements: DEMO_ANNOUNCEMENTS.length,
      outboxEvents: 0,
    });
  });

  it('stores no personal names from the source text anywhere', async () => {
    const { prisma: db } = await freshDatabase();
    await seedDemoContent(db);

    const tables = await db.$queryRaw<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`;
    let everything = '';
    for (const { table_name } of tables) {
      const rows = await db.$queryRawUnsafe<{ row: string }[]>(
        `SELECT row_to_json(t)::text AS row FROM "${table_name}" t`,
      );
      everything += rows.map((r) => r.row).join('\n');
    }
    expect(everything).toContain('kontaktpersonen for BOTT-SA ved NTNU');
    for (const name of ['Gry', 'Lene', 'Johansen', 'Hans', 'Martin', 'Øverkil', 'Overkil']) {
      expect(everything, `"${name}" in the seeded rows`).not.toContain(name);
    }
  });
});
