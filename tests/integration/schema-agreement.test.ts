/**
 * Proves that the hand-written migration SQL (prisma/migrations) and prisma/schema.prisma describe the same database:
 * on a freshly migrated database, every model is created, read, updated and deleted through the generated client with
 * every field set, declared defaults come from the database, unique constraints and relations behave as declared, and
 * the hand-written CHECKs hold. A column, type, enum value or constraint that differs makes one of these fail. Data
 * a migration changes in place (the first revision of announcements written before 20261126170000) is checked on a
 * database migrated up to the migration before it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import type { Db } from '../../src/db/prisma.js';
import { $Enums, Prisma } from '../../src/generated/prisma/client.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createEmptyDatabase } from '../helpers/db.js';

let ctx: TestContext;
let db: Db;

beforeAll(async () => {
  ctx = await createTestContext();
  db = ctx.deps.db;
});

afterAll(async () => {
  await ctx?.close();
});

type ModelName = keyof typeof Prisma.ModelName;

/** Every scalar field of every model, as the generated client knows them. */
const SCALAR_FIELDS: Record<ModelName, readonly string[]> = {
  Organisation: Object.values(Prisma.OrganisationScalarFieldEnum),
  User: Object.values(Prisma.UserScalarFieldEnum),
  Channel: Object.values(Prisma.ChannelScalarFieldEnum),
  ChannelRole: Object.values(Prisma.ChannelRoleScalarFieldEnum),
  Announcement: Object.values(Prisma.AnnouncementScalarFieldEnum),
  Subscription: Object.values(Prisma.SubscriptionScalarFieldEnum),
  OutboxEvent: Object.values(Prisma.OutboxEventScalarFieldEnum),
  Delivery: Object.values(Prisma.DeliveryScalarFieldEnum),
  ApiToken: Object.values(Prisma.ApiTokenScalarFieldEnum),
  FeedToken: Object.values(Prisma.FeedTokenScalarFieldEnum),
  Session: Object.values(Prisma.SessionScalarFieldEnum),
  OidcLogin: Object.values(Prisma.OidcLoginScalarFieldEnum),
  AuditLog: Object.values(Prisma.AuditLogScalarFieldEnum),
  AnnouncementRead: Object.values(Prisma.AnnouncementReadScalarFieldEnum),
  AnnouncementRating: Object.values(Prisma.AnnouncementRatingScalarFieldEnum),
  AnnouncementViewer: Object.values(Prisma.AnnouncementViewerScalarFieldEnum),
  IdempotencyKey: Object.values(Prisma.IdempotencyKeyScalarFieldEnum),
  AnnouncementTranslation: Object.values(Prisma.AnnouncementTranslationScalarFieldEnum),
  AnnouncementRevision: Object.values(Prisma.AnnouncementRevisionScalarFieldEnum),
  AnnouncementAcknowledgement: Object.values(Prisma.AnnouncementAcknowledgementScalarFieldEnum),
  Attachment: Object.values(Prisma.AttachmentScalarFieldEnum),
  PushSubscription: Object.values(Prisma.PushSubscriptionScalarFieldEnum),
  Webhook: Object.values(Prisma.WebhookScalarFieldEnum),
  EmailSuppression: Object.values(Prisma.EmailSuppressionScalarFieldEnum),
  Digest: Object.values(Prisma.DigestScalarFieldEnum),
};

/** Fails when a test forgets a field, so "every field set" stays true as the schema grows. */
function expectEveryField(model: ModelName, data: object, generatedByDatabase: string[] = []): void {
  expect([...Object.keys(data), ...generatedByDatabase].sort(), `fields set for ${model}`).toEqual(
    [...SCALAR_FIELDS[model]].sort(),
  );
}

/** Timestamps at millisecond precision, as Timestamptz(3) stores them. */
const T1 = new Date('2026-03-01T10:00:00.123Z');
const T2 = new Date('2026-04-02T11:30:45.678Z');
const T3 = new Date('2026-05-03T12:00:00.001Z');

let counter = 0;
const unique = (label: string) => `${label}-${++counter}-${randomUUID().slice(0, 8)}`;

async function makeOrganisation() {
  const code = unique('ORG');
  return db.organisation.create({ data: { code, name: `Org ${code}`, realm: `${code.toLowerCase()}.example.no` } });
}
async function makeUser(organisationId: string | null = null) {
  return db.user.create({ data: { email: `${unique('user')}@example.no`, displayName: 'Test user', organisationId } });
}
async function makeChannel() {
  return db.channel.create({ data: { slug: unique('channel'), title: 'Test channel' } });
}
async function makeAnnouncement(channelId: string, authorId: string | null = null) {
  return db.announcement.create({ data: { channelId, authorId, title: 'Title', body: 'Body', publishedAt: T1 } });
}

async function expectUniqueViolation(attempt: Promise<unknown>, constraint: string): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${constraint} to reject the duplicate`).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
  expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
  expect((error as Error).message).toContain(constraint);
}

describe('structure', () => {
  it('has exactly one table per model, plus Prisma bookkeeping', async () => {
    const tables = await db.$queryRaw<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`;
    expect(tables.map((t) => t.table_name).sort()).toEqual(
      [...Object.keys(Prisma.ModelName), '_prisma_migrations'].sort(),
    );
  });

  it("gives each table exactly its model's scalar fields as columns", async () => {
    const columns = await db.$queryRaw<{ table_name: string; column_name: string }[]>`
      SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`;
    for (const model of Object.keys(SCALAR_FIELDS) as ModelName[]) {
      const inTable = columns.filter((c) => c.table_name === model).map((c) => c.column_name);
      expect(inTable.sort(), `columns of ${model}`).toEqual([...SCALAR_FIELDS[model]].sort());
    }
  });

  it('declares every enum with the same values in the same order', async () => {
    const labels = await db.$queryRaw<{ name: string; label: string }[]>`
      SELECT t.typname AS name, e.enumlabel AS label
        FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
       ORDER BY t.typname, e.enumsortorder`;
    const inDatabase: Record<string, string[]> = {};
    for (const { name, label } of labels) inDatabase[name] = [...(inDatabase[name] ?? []), label];
    const inSchema = Object.fromEntries(
      Object.entries($Enums)
        .filter(([, value]) => typeof value === 'object')
        .map(([name, value]) => [name, Object.values(value as Record<string, string>)]),
    );
    expect(inDatabase).toEqual(inSchema);
  });

  // Hand-written in the search migration (Prisma cannot model text search); GIN expression indexes add no column, so
  // the checks above cannot see them. tests/http/search.test.ts proves the search query uses them.
  it('has the text search configurations and GIN indexes of announcement search', async () => {
    const indexes = await db.$queryRaw<{ indexname: string; indexdef: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() AND indexname LIKE 'Announcement_search_%' ORDER BY indexname`;
    expect(indexes.map((i) => i.indexname)).toEqual(['Announcement_search_en_idx', 'Announcement_search_nb_idx']);
    expect(indexes[0]!.indexdef).toMatch(/USING gin .*'mk_english'.*title.*'A'.*'mk_english'.*body.*'B'/);
    expect(indexes[1]!.indexdef).toMatch(/USING gin .*'mk_norwegian'.*title.*'A'.*'mk_norwegian'.*body.*'B'/);
    const [lexemes] = await db.$queryRaw<{ nb: string; en: string }[]>`
      SELECT to_tsvector('mk_norwegian', 'Økonomien')::text AS nb, to_tsvector('mk_english', 'Café upgrades')::text AS en`;
    expect(lexemes).toEqual({ nb: "'okonomi':1", en: "'cafe':1 'upgrad':2" });
  });

  // Prisma names indexes after their columns; a hand-written index under another name or on other columns would make
  // `prisma migrate diff` report drift, and a missing one would leave the scheduler's sweep or the counts unindexed.
  it("has the b-tree indexes the schema declares for the announcement tables, under Prisma's names", async () => {
    const indexes = await db.$queryRaw<{ indexname: string; indexdef: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() AND indexdef LIKE '%USING btree%'
         AND tablename IN ('Announcement', 'AnnouncementTranslation', 'AnnouncementRevision',
                           'AnnouncementAcknowledgement', 'Attachment', 'Delivery')
       ORDER BY indexname`;
    const columns = (definition: string) => /USING btree \((.*)\)$/.exec(definition)?.[1];
    expect(Object.fromEntries(indexes.map((i) => [i.indexname, columns(i.indexdef)]))).toEqual({
      Announcement_channelId_publishedAt_id_idx: '"channelId", "publishedAt" DESC, id DESC',
      Announcement_pkey: 'id',
      Announcement_resolvesId_key: '"resolvesId"',
      Announcement_status_publishAt_idx: 'status, "publishAt"',
      AnnouncementAcknowledgement_announcementId_acknowledgedAt_idx: '"announcementId", "acknowledgedAt"',
      AnnouncementAcknowledgement_pkey: '"announcementId", "userId"',
      AnnouncementAcknowledgement_userId_idx: '"userId"',
      AnnouncementRevision_announcementId_revision_key: '"announcementId", revision',
      AnnouncementRevision_pkey: 'id',
      AnnouncementTranslation_pkey: '"announcementId", language',
      Attachment_announcementId_createdAt_idx: '"announcementId", "createdAt"',
      Attachment_pkey: 'id',
      Delivery_announcementId_recipient_medium_kind_revision_key: '"announcementId", recipient, medium, kind, revision',
      Delivery_pkey: 'id',
      Delivery_status_nextAttemptAt_idx: 'status, "nextAttemptAt"',
      Delivery_subscriptionId_idx: '"subscriptionId"',
    });
  });

  it('indexes every language version for search the same way as the announcement itself', async () => {
    const indexes = await db.$queryRaw<{ indexname: string; indexdef: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename = 'AnnouncementTranslation' AND indexdef LIKE '%USING gin%'
       ORDER BY indexname`;
    expect(indexes.map((i) => i.indexname)).toEqual([
      'AnnouncementTranslation_search_en_idx',
      'AnnouncementTranslation_search_nb_idx',
    ]);
    expect(indexes[0]!.indexdef).toMatch(/USING gin .*'mk_english'.*title.*'A'.*'mk_english'.*body.*'B'/);
    expect(indexes[1]!.indexdef).toMatch(/USING gin .*'mk_norwegian'.*title.*'A'.*'mk_norwegian'.*body.*'B'/);
  });
});

describe('create, read, update and delete with every field', () => {
  it('Organisation', async () => {
    const data = { id: randomUUID(), code: 'UiB-x', name: 'Universitetet i Bergen', realm: 'uib-x.no', createdAt: T1 };
    expectEveryField('Organisation', data);
    expect(await db.organisation.create({ data })).toEqual(data);
    expect(await db.organisation.findUniqueOrThrow({ where: { id: data.id } })).toEqual(data);

    const changes = { code: 'UiO-x', name: 'Universitetet i Oslo', realm: 'uio-x.no', createdAt: T2 };
    await db.organisation.update({ where: { id: data.id }, data: changes });
    expect(await db.organisation.findUniqueOrThrow({ where: { realm: 'uio-x.no' } })).toEqual({ ...data, ...changes });

    await db.organisation.delete({ where: { id: data.id } });
    expect(await db.organisation.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('User', async () => {
    const organisation = await makeOrganisation();
    const data = {
      id: randomUUID(),
      email: `${unique('ada')}@uib.no`,
      displayName: 'Brukar Ærlig Østby-Åsen',
      organisationId: organisation.id,
      isAdmin: true,
      language: $Enums.Language.en,
      oidcIssuer: 'https://auth.dataporten.no',
      oidcSubject: randomUUID(),
      principalName: 'ada@uib.no',
      lastLoginAt: T2,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('User', data);
    expect(await db.user.create({ data })).toEqual(data);
    const read = await db.user.findUniqueOrThrow({ where: { email: data.email }, include: { organisation: true } });
    expect(read.organisation).toEqual(organisation);

    const changes = {
      email: null,
      displayName: 'Renamed',
      organisationId: null,
      isAdmin: false,
      language: 'nn' as const,
      oidcIssuer: null,
      oidcSubject: null,
      principalName: null,
      lastLoginAt: null,
    };
    const updated = await db.user.update({ where: { id: data.id }, data: changes });
    expect(updated).toEqual({ ...data, ...changes, updatedAt: updated.updatedAt });
    expect(updated.updatedAt.getTime()).toBeGreaterThan(T1.getTime());
    expect(await db.user.findUniqueOrThrow({ where: { id: data.id } })).toEqual(updated);

    await db.user.delete({ where: { id: data.id } });
    expect(await db.user.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('Channel', async () => {
    const organisation = await makeOrganisation();
    const data = {
      id: randomUUID(),
      slug: unique('bott-sa'),
      title: 'BOTT saksbehandling og arkiv',
      description: 'Saksbehandling, arkivering og journalføring — «samlet».',
      visibility: $Enums.ChannelVisibility.restricted,
      organisationId: organisation.id,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('Channel', data);
    expect(await db.channel.create({ data })).toEqual(data);
    const read = await db.channel.findUniqueOrThrow({ where: { slug: data.slug }, include: { organisation: true } });
    expect(read.organisation?.id).toBe(organisation.id);

    const changes = {
      slug: unique('renamed'),
      title: 'Nytt navn',
      description: '',
      visibility: 'internal' as const,
      organisationId: null,
      createdAt: T2,
      updatedAt: T3,
    };
    await db.channel.update({ where: { id: data.id }, data: changes });
    expect(await db.channel.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.channel.delete({ where: { id: data.id } });
    expect(await db.channel.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('ChannelRole', async () => {
    const [channel, user] = await Promise.all([makeChannel(), makeUser()]);
    const data = { channelId: channel.id, userId: user.id, role: $Enums.ChannelRoleKind.owner, createdAt: T1 };
    expectEveryField('ChannelRole', data);
    expect(await db.channelRole.create({ data })).toEqual(data);
    const key = { channelId_userId: { channelId: channel.id, userId: user.id } };
    const read = await db.channelRole.findUniqueOrThrow({ where: key, include: { channel: true, user: true } });
    expect([read.channel.slug, read.user.email]).toEqual([channel.slug, user.email]);
    expect(await db.user.findUniqueOrThrow({ where: { id: user.id }, include: { channelRoles: true } })).toMatchObject({
      channelRoles: [data],
    });

    const changes = { role: 'publisher' as const, createdAt: T2 };
    await db.channelRole.update({ where: key, data: changes });
    expect(await db.channelRole.findUniqueOrThrow({ where: key })).toEqual({ ...data, ...changes });

    await db.channelRole.delete({ where: key });
    expect(await db.channelRole.findUnique({ where: key })).toBeNull();
  });

  it('Announcement', async () => {
    const [channel, author, otherChannel] = await Promise.all([makeChannel(), makeUser(), makeChannel()]);
    // Every field set, which the CHECKs allow only for an incident (the one type with a resolvesId) that requires
    // acknowledgement (the one case with a deadline).
    const incident = await db.announcement.create({
      data: { channelId: channel.id, title: 'Incident', body: 'Nede', type: 'incident' },
    });
    const [orgA, orgB] = [randomUUID(), randomUUID()];
    const data = {
      id: randomUUID(),
      channelId: channel.id,
      authorId: author.id,
      title: 'Felles økonomi- og lønnstjeneste',
      body: '# Tidsplan\n\n- UiB og UiO: januar 2021\n- NTNU og UiT: januar 2022\n\n`kode` ✓ 🚀',
      importance: $Enums.Importance.critical,
      status: $Enums.AnnouncementStatus.scheduled,
      publishedAt: T2,
      retractedAt: null,
      pinnedAt: T1,
      pinnedUntil: T2,
      createdAt: T1,
      updatedAt: T1,
      language: $Enums.Language.nn,
      summary: 'Kort samandrag — «løyst»',
      type: $Enums.AnnouncementType.incident,
      affectedSystem: 'Lønn (SAP)',
      startsAt: T1,
      endsAt: T2,
      resolvesId: incident.id,
      audienceOrganisationIds: [orgA, orgB],
      publishAt: T2,
      expiresAt: T3,
      revision: 2_147_483_647,
      editedAt: T3,
      ackRequired: true,
      ackDeadline: T3,
      ackRemindersAt: T2,
    };
    expectEveryField('Announcement', data);
    expect(await db.announcement.create({ data })).toEqual(data);
    const read = await db.announcement.findUniqueOrThrow({
      where: { id: data.id },
      include: { channel: true, author: true, resolves: true },
    });
    expect([read.channel.id, read.author?.id, read.resolves?.id]).toEqual([channel.id, author.id, incident.id]);
    expect(
      await db.announcement.findUniqueOrThrow({ where: { id: incident.id }, include: { resolvedBy: true } }),
    ).toMatchObject({ resolvedBy: { id: data.id } });
    expect(await db.announcement.findUniqueOrThrow({ where: { resolvesId: incident.id } })).toEqual(data);
    // The array column filters as Prisma declares it.
    expect(await db.announcement.count({ where: { id: data.id, audienceOrganisationIds: { has: orgB } } })).toBe(1);

    const changes = {
      channelId: otherChannel.id,
      authorId: null,
      title: 'Endret',
      body: 'Ny tekst',
      importance: 'important' as const,
      status: 'retracted' as const,
      publishedAt: null,
      retractedAt: T3,
      pinnedAt: null,
      pinnedUntil: null,
      createdAt: T2,
      updatedAt: T3,
      language: 'en' as const,
      summary: null,
      type: 'maintenance' as const,
      affectedSystem: 'Fronter',
      startsAt: T2,
      endsAt: T3,
      resolvesId: null,
      audienceOrganisationIds: [],
      publishAt: null,
      expiresAt: null,
      revision: 1,
      editedAt: null,
      ackRequired: false,
      ackDeadline: null,
      ackRemindersAt: null,
    };
    expectEveryField('Announcement', changes, ['id']);
    await db.announcement.update({ where: { id: data.id }, data: changes });
    expect(await db.announcement.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });
    for (const status of Object.values($Enums.AnnouncementStatus)) {
      await db.announcement.update({ where: { id: data.id }, data: { status } });
      expect((await db.announcement.findUniqueOrThrow({ where: { id: data.id } })).status).toBe(status);
    }

    await db.announcement.delete({ where: { id: data.id } });
    expect(await db.announcement.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('AnnouncementTranslation (one per language)', async () => {
    const channel = await makeChannel();
    const [announcement, other] = [await makeAnnouncement(channel.id), await makeAnnouncement(channel.id)];
    const data = {
      announcementId: announcement.id,
      language: $Enums.Language.en,
      title: 'Joint finance and payroll service',
      summary: 'Short — “quoted”',
      body: '# Schedule\n\n- UiB ✓',
    };
    expectEveryField('AnnouncementTranslation', data);
    expect(await db.announcementTranslation.create({ data })).toEqual(data);
    await expectUniqueViolation(db.announcementTranslation.create({ data }), 'AnnouncementTranslation_pkey');
    const nynorsk = { ...data, language: 'nn' as const, title: 'Nynorsk', summary: null };
    await db.announcementTranslation.create({ data: nynorsk });
    const key = { announcementId_language: { announcementId: announcement.id, language: 'en' as const } };
    const read = await db.announcementTranslation.findUniqueOrThrow({ where: key, include: { announcement: true } });
    expect(read.announcement.id).toBe(announcement.id);
    expect(
      (
        await db.announcement.findUniqueOrThrow({ where: { id: announcement.id }, include: { translations: true } })
      ).translations
        .map((t) => t.language)
        .sort(),
    ).toEqual(['en', 'nn']);

    const changes = { announcementId: other.id, language: 'nb' as const, title: 'Ny', summary: null, body: 'B' };
    expectEveryField('AnnouncementTranslation', changes);
    await db.announcementTranslation.update({ where: key, data: changes });
    const moved = { announcementId_language: { announcementId: other.id, language: 'nb' as const } };
    expect(await db.announcementTranslation.findUniqueOrThrow({ where: moved })).toEqual(changes);

    await db.announcementTranslation.delete({ where: moved });
    expect(await db.announcementTranslation.findUnique({ where: moved })).toBeNull();
    await expect(
      db.announcementTranslation.create({ data: { ...data, announcementId: randomUUID() } }),
    ).rejects.toMatchObject({ code: 'P2003' });
  });

  it('AnnouncementRevision (a BigInt id, JSON content; unique per announcement and revision)', async () => {
    const [channel, editor, otherEditor] = await Promise.all([makeChannel(), makeUser(), makeUser()]);
    const announcement = await makeAnnouncement(channel.id);
    const data = {
      id: 9_007_199_254_740_993n,
      announcementId: announcement.id,
      revision: 2,
      editorId: editor.id,
      material: true,
      note: 'Retta dato — «viktig»',
      content: {
        language: 'nb',
        title: 'T',
        summary: null,
        body: 'æøå',
        translations: [{ language: 'en', title: 'E', summary: 's', body: 'b' }],
      },
      createdAt: T1,
    };
    expectEveryField('AnnouncementRevision', data);
    expect(await db.announcementRevision.create({ data })).toEqual(data);
    await expectUniqueViolation(
      db.announcementRevision.create({ data: { ...data, id: 1n } }),
      'AnnouncementRevision_announcementId_revision_key',
    );
    const key = { announcementId_revision: { announcementId: announcement.id, revision: 2 } };
    const read = await db.announcementRevision.findUniqueOrThrow({
      where: key,
      include: { announcement: true, editor: true },
    });
    expect([read.id, read.announcement.id, read.editor?.id]).toEqual([data.id, announcement.id, editor.id]);
    expect(await db.user.findUniqueOrThrow({ where: { id: editor.id }, include: { revisions: true } })).toMatchObject({
      revisions: [{ id: data.id }],
    });

    const changes = {
      revision: 3,
      editorId: otherEditor.id,
      material: false,
      note: null,
      content: ['any', 1, null],
      createdAt: T2,
    };
    await db.announcementRevision.update({ where: { id: data.id }, data: changes });
    expect(await db.announcementRevision.findUniqueOrThrow({ where: { id: data.id } })).toEqual({
      ...data,
      ...changes,
    });
    await db.announcementRevision.update({ where: { id: data.id }, data: { editorId: null } });
    expect((await db.announcementRevision.findUniqueOrThrow({ where: { id: data.id } })).editorId).toBeNull();

    await db.announcementRevision.delete({ where: { id: data.id } });
    expect(await db.announcementRevision.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('AnnouncementAcknowledgement (once per reader)', async () => {
    const [channel, organisation, otherOrganisation] = await Promise.all([
      makeChannel(),
      makeOrganisation(),
      makeOrganisation(),
    ]);
    const reader = await makeUser(organisation.id);
    const announcement = await makeAnnouncement(channel.id);
    const data = {
      announcementId: announcement.id,
      userId: reader.id,
      organisationId: organisation.id,
      acknowledgedAt: T1,
    };
    expectEveryField('AnnouncementAcknowledgement', data);
    expect(await db.announcementAcknowledgement.create({ data })).toEqual(data);
    await expectUniqueViolation(db.announcementAcknowledgement.create({ data }), 'AnnouncementAcknowledgement_pkey');
    const key = { announcementId_userId: { announcementId: announcement.id, userId: reader.id } };
    const read = await db.announcementAcknowledgement.findUniqueOrThrow({
      where: key,
      include: { announcement: true, user: true, organisation: true },
    });
    expect([read.announcement.id, read.user.id, read.organisation?.id]).toEqual([
      announcement.id,
      reader.id,
      organisation.id,
    ]);
    expect(
      await db.organisation.findUniqueOrThrow({ where: { id: organisation.id }, include: { acknowledgements: true } }),
    ).toMatchObject({ acknowledgements: [data] });
    expect(
      await db.user.findUniqueOrThrow({ where: { id: reader.id }, include: { acknowledgements: true } }),
    ).toMatchObject({ acknowledgements: [data] });

    const changes = { organisationId: otherOrganisation.id, acknowledgedAt: T2 };
    await db.announcementAcknowledgement.update({ where: key, data: changes });
    expect(await db.announcementAcknowledgement.findUniqueOrThrow({ where: key })).toEqual({ ...data, ...changes });
    await db.announcementAcknowledgement.update({ where: key, data: { organisationId: null } });
    expect((await db.announcementAcknowledgement.findUniqueOrThrow({ where: key })).organisationId).toBeNull();

    await db.announcementAcknowledgement.delete({ where: key });
    expect(await db.announcementAcknowledgement.findUnique({ where: key })).toBeNull();
  });

  it('Attachment (bytes in the row, or in the attachment directory)', async () => {
    const [channel, uploader] = await Promise.all([makeChannel(), makeUser()]);
    const [announcement, other] = [await makeAnnouncement(channel.id), await makeAnnouncement(channel.id)];
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const data = {
      id: randomUUID(),
      announcementId: announcement.id,
      filename: 'Tidsplan for økonomi.pdf',
      contentType: 'application/pdf',
      size: bytes.length,
      sha256: 'a'.repeat(64),
      storage: 'database',
      data: bytes,
      uploaderId: uploader.id,
      createdAt: T1,
    };
    expectEveryField('Attachment', data);
    const created = await db.attachment.create({ data });
    expect(created).toEqual({ ...data, data: created.data });
    expect([...(created.data ?? [])]).toEqual([...bytes]);
    const read = await db.attachment.findUniqueOrThrow({
      where: { id: data.id },
      include: { announcement: true, uploader: true },
    });
    expect([read.announcement.id, read.uploader?.id, [...(read.data ?? [])]]).toEqual([
      announcement.id,
      uploader.id,
      [...bytes],
    ]);
    expect(
      await db.announcement.findUniqueOrThrow({ where: { id: announcement.id }, include: { attachments: true } }),
    ).toMatchObject({ attachments: [{ id: data.id }] });
    expect(
      await db.user.findUniqueOrThrow({ where: { id: uploader.id }, include: { attachments: true } }),
    ).toMatchObject({ attachments: [{ id: data.id }] });

    const changes = {
      announcementId: other.id,
      filename: 'plan.txt',
      contentType: 'text/plain; charset=utf-8',
      size: 2_147_483_647,
      sha256: 'b'.repeat(64),
      storage: 'directory',
      data: null,
      uploaderId: null,
      createdAt: T2,
    };
    await db.attachment.update({ where: { id: data.id }, data: changes });
    expect(await db.attachment.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.attachment.delete({ where: { id: data.id } });
    expect(await db.attachment.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('EmailSuppression (one row per lower-cased address)', async () => {
    const data = {
      email: `${unique('bounced')}@uit.no`.toLowerCase(),
      reason: 'permanent_failure',
      detail: '550 5.1.1 <x@uit.no>: Recipient address rejected — «ukjent»',
      deliveryId: 9_007_199_254_740_993n,
      createdAt: T1,
      liftedAt: T2,
    };
    expectEveryField('EmailSuppression', data);
    expect(await db.emailSuppression.create({ data })).toEqual(data);
    await expectUniqueViolation(db.emailSuppression.create({ data }), 'EmailSuppression_pkey');
    expect(await db.emailSuppression.findUniqueOrThrow({ where: { email: data.email } })).toEqual(data);

    const changes = { reason: 'complaint', detail: null, deliveryId: null, createdAt: T2, liftedAt: null };
    await db.emailSuppression.update({ where: { email: data.email }, data: changes });
    expect(await db.emailSuppression.findUniqueOrThrow({ where: { email: data.email } })).toEqual({
      ...data,
      ...changes,
    });
    // Stored lower-cased: one address is one row whatever its spelling.
    await expect(
      db.emailSuppression.create({ data: { ...data, email: `Ola.Nordmann-${unique('x')}@UiT.no` } }),
    ).rejects.toThrow(/EmailSuppression_email_check/);

    await db.emailSuppression.delete({ where: { email: data.email } });
    expect(await db.emailSuppression.findUnique({ where: { email: data.email } })).toBeNull();

    const before = Date.now() - 5_000;
    const email = `${unique('raw')}@uib.no`;
    await db.$executeRaw`INSERT INTO "EmailSuppression" (email, reason) VALUES (${email}, 'permanent_failure')`;
    const raw = await db.emailSuppression.findUniqueOrThrow({ where: { email } });
    expect(raw).toMatchObject({ detail: null, deliveryId: null, liftedAt: null });
    expect(raw.createdAt.getTime()).toBeGreaterThan(before);
  });

  it('Digest (one per recipient, mode and period; daily or weekly; a period that ends after it starts)', async () => {
    const recipient = `user:${randomUUID()}`;
    const data = {
      id: 9_007_199_254_740_993n,
      recipient,
      mode: $Enums.EmailMode.weekly,
      language: $Enums.Language.nn,
      periodStart: T1,
      periodEnd: T2,
      announcementIds: [randomUUID(), randomUUID()],
      status: $Enums.DeliveryStatus.failed,
      attempts: 8,
      lastError: '421 4.7.0 try again later',
      skipReason: 'nothing new',
      nextAttemptAt: T3,
      claimedAt: T2,
      sentAt: T2,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('Digest', data);
    expect(await db.digest.create({ data })).toEqual(data);
    const key = { recipient_mode_periodStart: { recipient, mode: 'weekly' as const, periodStart: T1 } };
    expect(await db.digest.findUniqueOrThrow({ where: key })).toEqual(data);
    await expectUniqueViolation(
      db.digest.create({ data: { ...data, id: 1n } }),
      'Digest_recipient_mode_periodStart_key',
    );
    // The same period in the other mode, or the next period, is another digest.
    await db.digest.create({ data: { ...data, id: 2n, mode: 'daily' } });
    await db.digest.create({ data: { ...data, id: 3n, periodStart: T2, periodEnd: T3 } });

    const changes = {
      recipient: `email:${unique('d')}@uio.no`,
      mode: 'daily' as const,
      language: 'en' as const,
      periodStart: T2,
      periodEnd: T3,
      announcementIds: [],
      status: 'sent' as const,
      attempts: 0,
      lastError: null,
      skipReason: null,
      nextAttemptAt: T1,
      claimedAt: null,
      sentAt: null,
      createdAt: T2,
      updatedAt: T3,
    };
    await db.digest.update({ where: { id: data.id }, data: changes });
    expect(await db.digest.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    for (const mode of ['immediate', 'off'] as const) {
      await expect(db.digest.update({ where: { id: data.id }, data: { mode } }), mode).rejects.toThrow(
        /Digest_mode_check/,
      );
    }
    for (const periodEnd of [T2, T1]) {
      await expect(db.digest.update({ where: { id: data.id }, data: { periodEnd } })).rejects.toThrow(
        /Digest_period_check/,
      );
    }

    await db.digest.delete({ where: { id: data.id } });
    expect(await db.digest.findUnique({ where: { id: data.id } })).toBeNull();

    const before = Date.now() - 5_000;
    const [raw] = await db.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "Digest" (recipient, mode, "periodStart", "periodEnd", "updatedAt")
      VALUES (${recipient}, 'daily', ${T3}::timestamptz, ${T3}::timestamptz + interval '1 day', now()) RETURNING id`;
    const row = await db.digest.findUniqueOrThrow({ where: { id: raw!.id } });
    expect(row).toMatchObject({
      language: 'nb',
      announcementIds: [],
      status: 'pending',
      attempts: 0,
      lastError: null,
      skipReason: null,
      claimedAt: null,
      sentAt: null,
    });
    expect(row.createdAt.getTime()).toBeGreaterThan(before);
    expect(row.nextAttemptAt.getTime()).toBeGreaterThan(before);
  });

  it('PushSubscription (one row per browser endpoint)', async () => {
    const [user, other] = await Promise.all([makeUser(), makeUser()]);
    const data = {
      id: randomUUID(),
      userId: user.id,
      endpoint: `https://fcm.googleapis.com/fcm/send/${unique('endpoint')}`,
      p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
      auth: 'tBHItJI5svbpez7KI4CCXg',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0 — «test»',
      expiresAt: T3,
      createdAt: T1,
      lastSeenAt: T2,
      lastSuccessAt: T2,
    };
    expectEveryField('PushSubscription', data);
    expect(await db.pushSubscription.create({ data })).toEqual(data);
    await expectUniqueViolation(
      db.pushSubscription.create({ data: { ...data, id: randomUUID(), userId: other.id } }),
      'PushSubscription_endpoint_key',
    );
    const read = await db.pushSubscription.findUniqueOrThrow({
      where: { endpoint: data.endpoint },
      include: { user: true },
    });
    expect(read.user.id).toBe(user.id);
    expect(
      await db.user.findUniqueOrThrow({ where: { id: user.id }, include: { pushSubscriptions: true } }),
    ).toMatchObject({ pushSubscriptions: [data] });

    const changes = {
      userId: other.id,
      endpoint: `https://updates.push.services.mozilla.com/wpush/v2/${unique('endpoint')}`,
      p256dh: 'p',
      auth: 'a',
      userAgent: null,
      expiresAt: null,
      createdAt: T2,
      lastSeenAt: T3,
      lastSuccessAt: null,
    };
    await db.pushSubscription.update({ where: { id: data.id }, data: changes });
    expect(await db.pushSubscription.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.pushSubscription.delete({ where: { id: data.id } });
    expect(await db.pushSubscription.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('Webhook', async () => {
    const [channel, otherChannel, creator] = await Promise.all([makeChannel(), makeChannel(), makeUser()]);
    const data = {
      id: randomUUID(),
      channelId: channel.id,
      url: 'https://hooks.slack.com/services/T000/B000/XXXX?q=æøå',
      format: $Enums.WebhookFormat.slack,
      description: 'Driftskanal — «#drift»',
      secret: `whsec_${'s'.repeat(32)}`,
      events: ['announcement.updated', 'announcement.retracted'],
      enabled: false,
      consecutiveFailures: 2_147_483_647,
      disabledAt: T3,
      lastError: 'HTTP 410 Gone',
      lastSuccessAt: T2,
      createdById: creator.id,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('Webhook', data);
    expect(await db.webhook.create({ data })).toEqual(data);
    const read = await db.webhook.findUniqueOrThrow({
      where: { id: data.id },
      include: { channel: true, createdBy: true },
    });
    expect([read.channel.id, read.createdBy?.id]).toEqual([channel.id, creator.id]);
    // Several webhooks per channel, even to the same URL.
    await db.webhook.create({ data: { ...data, id: randomUUID() } });

    const changes = {
      channelId: otherChannel.id,
      url: 'https://example.no/hook',
      format: 'teams' as const,
      description: '',
      secret: 'whsec_other',
      events: ['announcement.published'],
      enabled: true,
      consecutiveFailures: 0,
      disabledAt: null,
      lastError: null,
      lastSuccessAt: null,
      createdById: null,
      createdAt: T2,
      updatedAt: T3,
    };
    await db.webhook.update({ where: { id: data.id }, data: changes });
    expect(await db.webhook.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });
    await expect(db.webhook.update({ where: { id: data.id }, data: { consecutiveFailures: -1 } })).rejects.toThrow(
      /Webhook_failures_check/,
    );
    // At least one event type, and only known ones.
    for (const events of [[], ['announcement.deleted'], ['announcement.published', 'webhook.test']]) {
      await expect(db.webhook.update({ where: { id: data.id }, data: { events } }), events.join()).rejects.toThrow(
        /Webhook_events_check/,
      );
    }

    await db.webhook.delete({ where: { id: data.id } });
    expect(await db.webhook.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('Subscription (for a user, then for a bare e-mail address)', async () => {
    const [channel, user] = await Promise.all([makeChannel(), makeUser()]);
    const data = {
      channelId: channel.id,
      userId: user.id,
      email: null,
      emailMode: $Enums.EmailMode.weekly,
      language: $Enums.Language.en,
      confirmedAt: T2,
      push: true,
      source: 'import',
      confirmationSentAt: T1,
      confirmationsSent: 2_147_483_647,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('Subscription', data, ['id']);
    const created = await db.subscription.create({ data });
    expect(typeof created.id).toBe('bigint');
    expect(created).toEqual({ ...data, id: created.id });
    const key = { channelId_userId: { channelId: channel.id, userId: user.id } };
    const read = await db.subscription.findUniqueOrThrow({ where: key, include: { user: true, channel: true } });
    expect([read.id, read.user?.id, read.channel.id]).toEqual([created.id, user.id, channel.id]);

    // Switch it to a bare e-mail address (the CHECK allows exactly one of userId / email).
    const changes = {
      userId: null,
      email: `${unique('reader')}@uio.no`,
      emailMode: 'off' as const,
      language: 'nn' as const,
      confirmedAt: null,
      push: false,
      source: 'self',
      confirmationSentAt: null,
      confirmationsSent: 0,
      createdAt: T2,
      updatedAt: T3,
    };
    await db.subscription.update({ where: { id: created.id }, data: changes });
    expect(
      await db.subscription.findUniqueOrThrow({
        where: { channelId_email: { channelId: channel.id, email: changes.email } },
      }),
    ).toEqual({ ...data, ...changes, id: created.id });

    await db.subscription.delete({ where: { id: created.id } });
    expect(await db.subscription.findUnique({ where: { id: created.id } })).toBeNull();
  });

  it('OutboxEvent (a BigInt id beyond 2^53 and a JSON payload)', async () => {
    const channel = await makeChannel();
    const data = {
      id: 9_007_199_254_740_993n,
      type: 'announcement.published',
      channelId: channel.id,
      aggregateId: randomUUID(),
      payload: { announcementId: randomUUID(), nested: { list: [1, 2.5, 'tre', null, true], tekst: 'æøå' } },
      createdAt: T1,
      relayedAt: T2,
      processedAt: T3,
      attempts: 2_147_483_647,
      position: 9_007_199_254_740_995n,
    };
    expectEveryField('OutboxEvent', data);
    expect(await db.outboxEvent.create({ data })).toEqual(data);
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: data.id }, include: { channel: true } })).toEqual({
      ...data,
      channel,
    });
    // One event per position: the live log's resume points are unique.
    await expectUniqueViolation(
      db.outboxEvent.create({
        data: {
          type: data.type,
          channelId: channel.id,
          aggregateId: randomUUID(),
          payload: {},
          position: data.position,
        },
      }),
      'position',
    );

    const changes = {
      type: 'announcement.retracted',
      payload: ['a', 1],
      relayedAt: null,
      processedAt: null,
      attempts: 0,
      createdAt: T3,
      position: null,
    };
    await db.outboxEvent.update({ where: { id: data.id }, data: changes });
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.outboxEvent.delete({ where: { id: data.id } });
    expect(await db.outboxEvent.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('Delivery', async () => {
    const channel = await makeChannel();
    const announcement = await makeAnnouncement(channel.id);
    const subscription = await db.subscription.create({
      data: { channelId: channel.id, email: `${unique('sub')}@ntnu.no` },
    });
    const data = {
      announcementId: announcement.id,
      subscriptionId: subscription.id,
      recipient: `email:${subscription.email}`,
      medium: $Enums.DeliveryMedium.webhook,
      kind: $Enums.DeliveryKind.correction,
      revision: 3,
      status: $Enums.DeliveryStatus.failed,
      attempts: 8,
      lastError: '550 5.1.1 mailbox unavailable',
      skipReason: 'unsubscribed',
      nextAttemptAt: T3,
      claimedAt: T2,
      sentAt: T2,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('Delivery', data, ['id']);
    const created = await db.delivery.create({ data });
    expect(typeof created.id).toBe('bigint');
    expect(created).toEqual({ ...data, id: created.id });
    const read = await db.delivery.findUniqueOrThrow({
      where: {
        announcementId_recipient_medium_kind_revision: {
          announcementId: announcement.id,
          recipient: data.recipient,
          medium: 'webhook',
          kind: 'correction',
          revision: 3,
        },
      },
      include: { announcement: true, subscription: true },
    });
    expect([read.id, read.announcement.id, read.subscription?.id]).toEqual([
      created.id,
      announcement.id,
      subscription.id,
    ]);

    const changes = {
      subscriptionId: null,
      recipient: `user:${randomUUID()}`,
      medium: 'push' as const,
      kind: 'ack_reminder' as const,
      revision: 0,
      status: 'sent' as const,
      attempts: 1,
      lastError: null,
      skipReason: null,
      nextAttemptAt: T1,
      claimedAt: null,
      sentAt: null,
      createdAt: T2,
      updatedAt: T3,
    };
    await db.delivery.update({ where: { id: created.id }, data: changes });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: created.id } })).toEqual({
      ...data,
      ...changes,
      id: created.id,
    });

    await db.delivery.delete({ where: { id: created.id } });
    expect(await db.delivery.findUnique({ where: { id: created.id } })).toBeNull();
  });

  it('ApiToken (a text array)', async () => {
    const user = await makeUser();
    const data = {
      id: randomUUID(),
      userId: user.id,
      name: 'CI-jobb',
      prefix: 'mkt_abcdefgh',
      tokenHash: 'a'.repeat(64),
      scopes: ['read', 'publish', 'admin'],
      createdAt: T1,
      lastUsedAt: T2,
      expiresAt: T3,
      revokedAt: T3,
    };
    expectEveryField('ApiToken', data);
    expect(await db.apiToken.create({ data })).toEqual(data);
    const read = await db.apiToken.findUniqueOrThrow({ where: { tokenHash: data.tokenHash }, include: { user: true } });
    expect(read.user.id).toBe(user.id);

    const changes = {
      name: 'Omdøpt',
      prefix: 'mkt_zyxwvuts',
      tokenHash: 'b'.repeat(64),
      scopes: [],
      createdAt: T2,
      lastUsedAt: null,
      expiresAt: null,
      revokedAt: null,
    };
    await db.apiToken.update({ where: { id: data.id }, data: changes });
    expect(await db.apiToken.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.apiToken.delete({ where: { id: data.id } });
    expect(await db.apiToken.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('FeedToken (hash unique; removed with its user)', async () => {
    const user = await makeUser();
    const data = {
      id: randomUUID(),
      userId: user.id,
      tokenHash: 'f'.repeat(64),
      prefix: 'mkf_abcdefgh',
      createdAt: T1,
      lastUsedAt: T2,
      revokedAt: T3,
    };
    expectEveryField('FeedToken', data);
    expect(await db.feedToken.create({ data })).toEqual(data);
    await expect(db.feedToken.create({ data: { ...data, id: randomUUID() } })).rejects.toThrow();
    const changes = {
      tokenHash: 'e'.repeat(64),
      prefix: 'mkf_zyxwvuts',
      createdAt: T2,
      lastUsedAt: null,
      revokedAt: null,
    };
    await db.feedToken.update({ where: { id: data.id }, data: changes });
    expect(await db.feedToken.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });
    await db.user.delete({ where: { id: user.id } });
    expect(await db.feedToken.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('Session', async () => {
    const user = await makeUser();
    const data = {
      id: 'c'.repeat(64),
      userId: user.id,
      csrfSecret: 'secret',
      idToken: 'eyJhbGciOiJSUzI1NiJ9.e30.sig',
      createdAt: T1,
      lastSeenAt: T2,
      expiresAt: T3,
    };
    expectEveryField('Session', data);
    expect(await db.session.create({ data })).toEqual(data);
    const read = await db.session.findUniqueOrThrow({ where: { id: data.id }, include: { user: true } });
    expect(read.user.id).toBe(user.id);

    const changes = { csrfSecret: 'rotated', idToken: null, createdAt: T2, lastSeenAt: T3, expiresAt: T1 };
    await db.session.update({ where: { id: data.id }, data: changes });
    expect(await db.session.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.session.delete({ where: { id: data.id } });
    expect(await db.session.findUnique({ where: { id: data.id } })).toBeNull();
  });

  it('OidcLogin', async () => {
    const data = {
      stateHash: 'd'.repeat(64),
      nonce: 'nonce',
      codeVerifier: 'verifier',
      returnTo: '/kanaler',
      createdAt: T1,
      expiresAt: T2,
    };
    expectEveryField('OidcLogin', data);
    expect(await db.oidcLogin.create({ data })).toEqual(data);
    const changes = { nonce: 'n2', codeVerifier: 'v2', returnTo: '/', createdAt: T2, expiresAt: T3 };
    await db.oidcLogin.update({ where: { stateHash: data.stateHash }, data: changes });
    expect(await db.oidcLogin.findUniqueOrThrow({ where: { stateHash: data.stateHash } })).toEqual({
      ...data,
      ...changes,
    });
    await db.oidcLogin.delete({ where: { stateHash: data.stateHash } });
    expect(await db.oidcLogin.findUnique({ where: { stateHash: data.stateHash } })).toBeNull();
  });

  it('AuditLog (created and read; the database refuses update, delete and truncate)', async () => {
    const data = {
      id: 9_007_199_254_740_993n,
      at: T1,
      actorUserId: randomUUID(),
      actorKind: 'user',
      action: 'announcement.publish',
      targetType: 'channel',
      targetId: 'bott-sa',
      outcome: 'success',
      requestId: 'req-1',
      details: { importance: 'critical', tags: ['a', 'b'] },
    };
    expectEveryField('AuditLog', data);
    expect(await db.auditLog.create({ data })).toEqual(data);
    expect(await db.auditLog.findUniqueOrThrow({ where: { id: data.id } })).toEqual(data);

    await expect(db.auditLog.update({ where: { id: data.id }, data: { outcome: 'denied' } })).rejects.toThrow(
      /append-only/,
    );
    await expect(db.auditLog.delete({ where: { id: data.id } })).rejects.toThrow(/append-only/);
    await expect(db.$executeRawUnsafe('TRUNCATE "AuditLog"')).rejects.toThrow(/append-only/);
    expect(await db.auditLog.findUniqueOrThrow({ where: { id: data.id } })).toEqual(data);
  });
});

describe('reading: read state, ratings and viewers', () => {
  it('AnnouncementRead, AnnouncementRating and AnnouncementViewer with every field', async () => {
    const [channel, user] = await Promise.all([makeChannel(), makeUser()]);
    const announcement = await makeAnnouncement(channel.id);
    const key = { userId: user.id, announcementId: announcement.id };

    const read = { ...key, readAt: T1 };
    expectEveryField('AnnouncementRead', read);
    expect(await db.announcementRead.create({ data: read })).toEqual(read);
    await expectUniqueViolation(db.announcementRead.create({ data: read }), 'AnnouncementRead_pkey');
    await db.announcementRead.update({ where: { userId_announcementId: key }, data: { readAt: T2 } });
    expect(await db.announcementRead.findUniqueOrThrow({ where: { userId_announcementId: key } })).toEqual({
      ...read,
      readAt: T2,
    });

    const rating = { ...key, stars: 4, createdAt: T1, updatedAt: T2 };
    expectEveryField('AnnouncementRating', rating);
    expect(await db.announcementRating.create({ data: rating })).toEqual(rating);
    await expectUniqueViolation(db.announcementRating.create({ data: rating }), 'AnnouncementRating_pkey');
    await db.announcementRating.update({ where: { userId_announcementId: key }, data: { stars: 5, createdAt: T3 } });
    expect(await db.announcementRating.findUniqueOrThrow({ where: { userId_announcementId: key } })).toMatchObject({
      stars: 5,
      createdAt: T3,
    });
    // The CHECK: 1–5 stars only, whichever path writes them.
    for (const stars of [0, 6]) {
      await expect(
        db.announcementRating.update({ where: { userId_announcementId: key }, data: { stars } }),
      ).rejects.toThrow(/AnnouncementRating_stars_check/);
    }

    const viewer = { announcementId: announcement.id, viewerKey: 'k'.repeat(43), firstViewedAt: T1 };
    expectEveryField('AnnouncementViewer', viewer);
    expect(await db.announcementViewer.create({ data: viewer })).toEqual(viewer);
    await expectUniqueViolation(db.announcementViewer.create({ data: viewer }), 'AnnouncementViewer_pkey');
    const viewerKey = { announcementId_viewerKey: { announcementId: announcement.id, viewerKey: viewer.viewerKey } };
    await db.announcementViewer.update({ where: viewerKey, data: { firstViewedAt: T2 } });
    expect(await db.announcementViewer.findUniqueOrThrow({ where: viewerKey })).toEqual({
      ...viewer,
      firstViewedAt: T2,
    });

    // Relations, read back through the client.
    expect(
      await db.announcement.findUniqueOrThrow({
        where: { id: announcement.id },
        include: { reads: true, ratings: true, viewers: true },
      }),
    ).toMatchObject({
      reads: [{ userId: user.id }],
      ratings: [{ userId: user.id }],
      viewers: [{ viewerKey: 'k'.repeat(43) }],
    });
    expect(
      await db.user.findUniqueOrThrow({ where: { id: user.id }, include: { reads: true, ratings: true } }),
    ).toMatchObject({ reads: [{ announcementId: announcement.id }], ratings: [{ announcementId: announcement.id }] });
  });

  it('defaults from the database, and the onDelete rules (user: reads and ratings go; announcement: all go)', async () => {
    const [channel, reader] = await Promise.all([makeChannel(), makeUser()]);
    const announcement = await makeAnnouncement(channel.id);
    const before = Date.now() - 5_000;
    await db.$executeRaw`INSERT INTO "AnnouncementRead" ("userId", "announcementId")
                         VALUES (${reader.id}::uuid, ${announcement.id}::uuid)`;
    await db.$executeRaw`INSERT INTO "AnnouncementRating" ("userId", "announcementId", stars, "updatedAt")
                         VALUES (${reader.id}::uuid, ${announcement.id}::uuid, 3, now())`;
    await db.$executeRaw`INSERT INTO "AnnouncementViewer" ("announcementId", "viewerKey")
                         VALUES (${announcement.id}::uuid, 'viewer')`;
    const read = await db.announcementRead.findFirstOrThrow({ where: { userId: reader.id } });
    const rating = await db.announcementRating.findFirstOrThrow({ where: { userId: reader.id } });
    const viewer = await db.announcementViewer.findFirstOrThrow({ where: { announcementId: announcement.id } });
    expect(read.readAt.getTime()).toBeGreaterThan(before);
    expect(rating.createdAt.getTime()).toBeGreaterThan(before);
    expect(viewer.firstViewedAt.getTime()).toBeGreaterThan(before);

    await db.user.delete({ where: { id: reader.id } });
    expect(await db.announcementRead.count({ where: { userId: reader.id } })).toBe(0);
    expect(await db.announcementRating.count({ where: { userId: reader.id } })).toBe(0);
    // The viewer row names no user: it stays, and the view still counts.
    expect(await db.announcementViewer.count({ where: { announcementId: announcement.id } })).toBe(1);

    const other = await makeUser();
    await db.announcementRead.create({ data: { userId: other.id, announcementId: announcement.id } });
    await db.announcementRating.create({ data: { userId: other.id, announcementId: announcement.id, stars: 2 } });
    await db.announcement.delete({ where: { id: announcement.id } });
    expect(await db.announcementRead.count({ where: { announcementId: announcement.id } })).toBe(0);
    expect(await db.announcementRating.count({ where: { announcementId: announcement.id } })).toBe(0);
    expect(await db.announcementViewer.count({ where: { announcementId: announcement.id } })).toBe(0);
    await expect(
      db.announcementRead.create({ data: { userId: randomUUID(), announcementId: randomUUID() } }),
    ).rejects.toMatchObject({ code: 'P2003' });
  });
});

describe('lifecycle: idempotency keys', () => {
  it('IdempotencyKey with every field, unique per (user, key), createdAt from the database, gone with its user', async () => {
    const [user, other] = await Promise.all([makeUser(), makeUser()]);
    const row = {
      userId: user.id,
      key: 'retry-1',
      fingerprint: 'f'.repeat(64),
      responseStatus: 201,
      responseBody: { id: randomUUID(), nested: { list: [1, 'two', null] } },
      createdAt: T1,
    };
    expectEveryField('IdempotencyKey', row);
    expect(await db.idempotencyKey.create({ data: row })).toEqual(row);
    await expectUniqueViolation(db.idempotencyKey.create({ data: row }), 'IdempotencyKey_pkey');
    // The same key of another user is another key.
    await db.idempotencyKey.create({ data: { ...row, userId: other.id } });
    const where = { userId_key: { userId: user.id, key: row.key } };
    await db.idempotencyKey.update({ where, data: { responseStatus: 200, createdAt: T2 } });
    expect(await db.idempotencyKey.findUniqueOrThrow({ where })).toEqual({
      ...row,
      responseStatus: 200,
      createdAt: T2,
    });

    const before = Date.now() - 5_000;
    await db.$executeRaw`INSERT INTO "IdempotencyKey" ("userId", key, fingerprint, "responseStatus", "responseBody")
                         VALUES (${user.id}::uuid, 'raw', 'f', 201, '{}'::jsonb)`;
    const raw = await db.idempotencyKey.findUniqueOrThrow({ where: { userId_key: { userId: user.id, key: 'raw' } } });
    expect(raw.createdAt.getTime()).toBeGreaterThan(before);
    const withKeys = await db.user.findUniqueOrThrow({ where: { id: user.id }, include: { idempotencyKeys: true } });
    expect(withKeys.idempotencyKeys.map((k) => k.key).sort()).toEqual(['raw', 'retry-1']);

    await db.user.delete({ where: { id: user.id } });
    expect(await db.idempotencyKey.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.idempotencyKey.count({ where: { userId: other.id } })).toBe(1);
    await expect(db.idempotencyKey.create({ data: { ...row, userId: randomUUID() } })).rejects.toMatchObject({
      code: 'P2003',
    });
  });
});

describe('defaults come from the database as the schema declares', () => {
  // The client fills static @default values itself, so only rows inserted without it (raw SQL in workers, psql) see
  // the database's DEFAULTs: insert the required columns only, then read through the client. uuid() and @updatedAt
  // are the client's job (no database default), so they are given.
  it('fills every declared default when only required columns are inserted', async () => {
    const before = Date.now() - 5_000;
    const [organisationId, userId, channelId, announcementId, tokenId] = Array.from({ length: 5 }, () => randomUUID());
    const code = unique('ORG');
    await db.$executeRaw`INSERT INTO "Organisation" (id, code, name, realm) VALUES (${organisationId}::uuid, ${code}, 'O', ${code})`;
    await db.$executeRaw`INSERT INTO "User" (id, "displayName", "updatedAt") VALUES (${userId}::uuid, 'Minimal', now())`;
    await db.$executeRaw`INSERT INTO "Channel" (id, slug, title, "updatedAt") VALUES (${channelId}::uuid, ${unique('minimal')}, 'Minimal', now())`;
    await db.$executeRaw`INSERT INTO "Announcement" (id, "channelId", title, body, "updatedAt")
                         VALUES (${announcementId}::uuid, ${channelId}::uuid, 'T', 'B', now())`;
    const [subscription] = await db.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "Subscription" ("channelId", "userId", "updatedAt") VALUES (${channelId}::uuid, ${userId}::uuid, now())
      RETURNING id`;
    const events = await db.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "OutboxEvent" (type, "channelId", "aggregateId", payload)
      VALUES ('t', ${channelId}::uuid, ${announcementId}::uuid, '{}'), ('t', ${channelId}::uuid, ${announcementId}::uuid, '{}')
      RETURNING id`;
    const [delivery] = await db.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "Delivery" ("announcementId", recipient, medium, "updatedAt")
      VALUES (${announcementId}::uuid, 'user:x', 'email', now()) RETURNING id`;
    await db.$executeRaw`INSERT INTO "ApiToken" (id, "userId", name, prefix, "tokenHash", scopes)
                         VALUES (${tokenId}::uuid, ${userId}::uuid, 'n', 'mkt_x', ${unique('hash')}, '{read}')`;

    const organisation = await db.organisation.findUniqueOrThrow({ where: { id: organisationId } });
    const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
    expect(user).toMatchObject({ email: null, organisationId: null, isAdmin: false, language: 'nb' });
    const channel = await db.channel.findUniqueOrThrow({ where: { id: channelId } });
    expect(channel).toMatchObject({ description: '', visibility: 'public', organisationId: null });
    const announcement = await db.announcement.findUniqueOrThrow({ where: { id: announcementId } });
    expect(announcement).toMatchObject({ authorId: null, importance: 'info', status: 'published', publishedAt: null });
    expect(announcement).toMatchObject({
      language: 'nb',
      summary: null,
      type: 'general',
      affectedSystem: null,
      startsAt: null,
      endsAt: null,
      resolvesId: null,
      audienceOrganisationIds: [],
      publishAt: null,
      expiresAt: null,
      revision: 1,
      editedAt: null,
      ackRequired: false,
      ackDeadline: null,
      ackRemindersAt: null,
    });
    const subscriptionRow = await db.subscription.findUniqueOrThrow({ where: { id: subscription!.id } });
    expect(subscriptionRow).toMatchObject({
      email: null,
      emailMode: 'immediate',
      language: 'nb',
      confirmedAt: null,
      push: false,
      source: 'account',
      confirmationSentAt: null,
      confirmationsSent: 0,
    });
    const event = await db.outboxEvent.findUniqueOrThrow({ where: { id: events[0]!.id } });
    expect(event).toMatchObject({ relayedAt: null, processedAt: null, attempts: 0 });
    expect(events[1]!.id).toBeGreaterThan(events[0]!.id);
    const deliveryRow = await db.delivery.findUniqueOrThrow({ where: { id: delivery!.id } });
    expect(deliveryRow).toMatchObject({
      kind: 'announcement',
      revision: 0,
      subscriptionId: null,
      status: 'pending',
      attempts: 0,
      lastError: null,
      skipReason: null,
      claimedAt: null,
      sentAt: null,
    });
    const token = await db.apiToken.findUniqueOrThrow({ where: { id: tokenId } });
    expect(token).toMatchObject({ lastUsedAt: null, expiresAt: null, revokedAt: null });
    expect(user).toMatchObject({ oidcIssuer: null, oidcSubject: null, principalName: null, lastLoginAt: null });

    await db.$executeRaw`INSERT INTO "Session" (id, "userId", "csrfSecret", "expiresAt")
                         VALUES (${unique('session')}, ${userId}::uuid, 's', now() + interval '1 hour')`;
    const session = await db.session.findFirstOrThrow({ where: { userId } });
    expect(session.idToken).toBeNull();
    expect(session.createdAt.getTime()).toBeGreaterThan(before);
    expect(session.lastSeenAt.getTime()).toBeGreaterThan(before);
    const stateHash = unique('state');
    await db.$executeRaw`INSERT INTO "OidcLogin" ("stateHash", nonce, "codeVerifier", "returnTo", "expiresAt")
                         VALUES (${stateHash}, 'n', 'v', '/', now())`;
    expect((await db.oidcLogin.findUniqueOrThrow({ where: { stateHash } })).createdAt.getTime()).toBeGreaterThan(
      before,
    );
    const [audit] = await db.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "AuditLog" ("actorKind", action, outcome) VALUES ('system', 'test', 'success') RETURNING id`;
    const auditRow = await db.auditLog.findUniqueOrThrow({ where: { id: audit!.id } });
    expect(auditRow).toMatchObject({
      actorUserId: null,
      targetType: null,
      targetId: null,
      requestId: null,
      details: null,
    });
    expect(auditRow.at.getTime()).toBeGreaterThan(before);

    for (const row of [organisation, user, channel, announcement, subscriptionRow, event, deliveryRow, token]) {
      expect(row.createdAt.getTime()).toBeGreaterThan(before);
    }
    expect(deliveryRow.nextAttemptAt.getTime()).toBeGreaterThan(before);
  });

  it('fills the defaults of translations, revisions, acknowledgements and attachments', async () => {
    const before = Date.now() - 5_000;
    const [channel, user] = await Promise.all([makeChannel(), makeUser()]);
    const announcement = await makeAnnouncement(channel.id);
    const attachmentId = randomUUID();
    await db.$executeRaw`INSERT INTO "AnnouncementTranslation" ("announcementId", language, title, body)
                         VALUES (${announcement.id}::uuid, 'en', 'T', 'B')`;
    const [revision] = await db.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "AnnouncementRevision" ("announcementId", revision, material, content)
      VALUES (${announcement.id}::uuid, 2, false, '{}'::jsonb) RETURNING id`;
    await db.$executeRaw`INSERT INTO "AnnouncementAcknowledgement" ("announcementId", "userId")
                         VALUES (${announcement.id}::uuid, ${user.id}::uuid)`;
    await db.$executeRaw`INSERT INTO "Attachment" (id, "announcementId", filename, "contentType", size, sha256, storage)
                         VALUES (${attachmentId}::uuid, ${announcement.id}::uuid, 'f', 'text/plain', 0, 'x', 'directory')`;

    expect(
      await db.announcementTranslation.findFirstOrThrow({ where: { announcementId: announcement.id } }),
    ).toMatchObject({ summary: null });
    const revisionRow = await db.announcementRevision.findUniqueOrThrow({ where: { id: revision!.id } });
    expect(revisionRow).toMatchObject({ editorId: null, note: null });
    expect(revisionRow.createdAt.getTime()).toBeGreaterThan(before);
    const acknowledgement = await db.announcementAcknowledgement.findFirstOrThrow({ where: { userId: user.id } });
    expect(acknowledgement.organisationId).toBeNull();
    expect(acknowledgement.acknowledgedAt.getTime()).toBeGreaterThan(before);
    const attachment = await db.attachment.findUniqueOrThrow({ where: { id: attachmentId } });
    expect(attachment).toMatchObject({ data: null, uploaderId: null });
    expect(attachment.createdAt.getTime()).toBeGreaterThan(before);
  });

  it('fills the defaults of push subscriptions and webhooks', async () => {
    const before = Date.now() - 5_000;
    const [channel, user] = await Promise.all([makeChannel(), makeUser()]);
    const [pushId, webhookId] = [randomUUID(), randomUUID()];
    await db.$executeRaw`INSERT INTO "PushSubscription" (id, "userId", endpoint, p256dh, auth)
                         VALUES (${pushId}::uuid, ${user.id}::uuid, ${unique('https://push.example/')}, 'k', 'a')`;
    await db.$executeRaw`INSERT INTO "Webhook" (id, "channelId", url, secret, "updatedAt")
                         VALUES (${webhookId}::uuid, ${channel.id}::uuid, 'https://example.no', 's', now())`;
    const push = await db.pushSubscription.findUniqueOrThrow({ where: { id: pushId } });
    expect(push).toMatchObject({ userAgent: null, expiresAt: null, lastSuccessAt: null });
    expect(push.createdAt.getTime()).toBeGreaterThan(before);
    expect(push.lastSeenAt.getTime()).toBeGreaterThan(before);
    const webhook = await db.webhook.findUniqueOrThrow({ where: { id: webhookId } });
    expect(webhook).toMatchObject({
      format: 'standard',
      description: '',
      events: ['announcement.published', 'announcement.updated', 'announcement.retracted'],
      enabled: true,
      consecutiveFailures: 0,
      disabledAt: null,
      lastError: null,
      lastSuccessAt: null,
      createdById: null,
    });
    expect(webhook.createdAt.getTime()).toBeGreaterThan(before);
  });

  it('leaves uuid() ids and @updatedAt to the client, which fills them', async () => {
    const user = await db.user.create({ data: { displayName: 'Client defaults' } });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(user.updatedAt).toBeInstanceOf(Date);
  });
});

describe('constraints', () => {
  it('rejects duplicates of every unique key the schema declares, with P2002', async () => {
    const organisation = await makeOrganisation();
    await expectUniqueViolation(
      db.organisation.create({ data: { code: organisation.code, name: 'x', realm: 'other.example.no' } }),
      'Organisation_code_key',
    );
    await expectUniqueViolation(
      db.organisation.create({ data: { code: unique('other'), name: 'x', realm: organisation.realm } }),
      'Organisation_realm_key',
    );

    const user = await makeUser();
    await expectUniqueViolation(db.user.create({ data: { email: user.email, displayName: 'x' } }), 'User_email_key');
    const identity = { oidcIssuer: 'https://issuer.example', oidcSubject: unique('sub') };
    await db.user.create({ data: { displayName: 'signed in', ...identity } });
    await expectUniqueViolation(
      db.user.create({ data: { displayName: 'same subject', ...identity } }),
      'User_oidcIssuer_oidcSubject_key',
    );
    // The same subject at another issuer is another person.
    await db.user.create({ data: { displayName: 'other issuer', ...identity, oidcIssuer: 'https://other.example' } });
    // Many users may have no e-mail address (NULLs are distinct).
    await db.user.create({ data: { displayName: 'no e-mail 1' } });
    await db.user.create({ data: { displayName: 'no e-mail 2' } });

    const channel = await makeChannel();
    await expectUniqueViolation(db.channel.create({ data: { slug: channel.slug, title: 'x' } }), 'Channel_slug_key');

    await db.channelRole.create({ data: { channelId: channel.id, userId: user.id, role: 'owner' } });
    await expectUniqueViolation(
      db.channelRole.create({ data: { channelId: channel.id, userId: user.id, role: 'publisher' } }),
      'ChannelRole_pkey',
    );

    await db.subscription.create({ data: { channelId: channel.id, userId: user.id } });
    await expectUniqueViolation(
      db.subscription.create({ data: { channelId: channel.id, userId: user.id } }),
      'Subscription_channelId_userId_key',
    );
    await db.subscription.create({ data: { channelId: channel.id, email: 'same@uit.no' } });
    await expectUniqueViolation(
      db.subscription.create({ data: { channelId: channel.id, email: 'same@uit.no' } }),
      'Subscription_channelId_email_key',
    );

    const announcement = await makeAnnouncement(channel.id);
    const delivery = { announcementId: announcement.id, recipient: `user:${user.id}`, medium: 'email' as const };
    await db.delivery.create({ data: delivery });
    await expectUniqueViolation(
      db.delivery.create({ data: delivery }),
      'Delivery_announcementId_recipient_medium_kind_revision_key',
    );
    // Another medium, kind or revision for the same recipient is a different message; each is still unique.
    for (const other of [
      { medium: 'push' as const },
      { kind: 'ack_reminder' as const },
      { kind: 'correction' as const, revision: 2 },
      { kind: 'correction' as const, revision: 3 },
      { kind: 'retraction' as const },
    ]) {
      await db.delivery.create({ data: { ...delivery, ...other } });
      await expectUniqueViolation(
        db.delivery.create({ data: { ...delivery, ...other } }),
        'Delivery_announcementId_recipient_medium_kind_revision_key',
      );
    }
    expect(await db.delivery.count({ where: { announcementId: announcement.id } })).toBe(6);

    // One "resolved" follow-up per incident.
    const incident = await db.announcement.create({
      data: { channelId: channel.id, title: 'Nede', body: 'B', type: 'incident' },
    });
    const followUp = { channelId: channel.id, title: 'Løyst', body: 'B', type: 'incident' as const };
    await db.announcement.create({ data: { ...followUp, resolvesId: incident.id } });
    await expectUniqueViolation(
      db.announcement.create({ data: { ...followUp, resolvesId: incident.id } }),
      'Announcement_resolvesId_key',
    );
    // Announcements that resolve nothing are many (NULLs are distinct).
    await db.announcement.create({ data: followUp });
    await db.announcement.create({ data: followUp });

    const tokenHash = unique('hash');
    await db.apiToken.create({ data: { userId: user.id, name: 'a', prefix: 'mkt_a', tokenHash, scopes: [] } });
    await expectUniqueViolation(
      db.apiToken.create({ data: { userId: user.id, name: 'b', prefix: 'mkt_b', tokenHash, scopes: [] } }),
      'ApiToken_tokenHash_key',
    );
  });

  it('knows only three sources of a subscription, and never a negative count of confirmations', async () => {
    const channel = await makeChannel();
    const base = { channelId: channel.id, email: `${unique('s')}@uib.no` };
    for (const source of ['account', 'self', 'import']) {
      const row = await db.subscription.create({ data: { ...base, email: `${source}-${base.email}`, source } });
      await db.subscription.delete({ where: { id: row.id } });
    }
    await expect(db.subscription.create({ data: { ...base, source: 'api' } })).rejects.toThrow(
      /Subscription_source_check/,
    );
    await expect(db.subscription.create({ data: { ...base, confirmationsSent: -1 } })).rejects.toThrow(
      /Subscription_confirmations_check/,
    );
  });

  it('requires a subscription to belong to a user or an e-mail address, never both or neither', async () => {
    const [channel, user] = await Promise.all([makeChannel(), makeUser()]);
    await expect(
      db.subscription.create({ data: { channelId: channel.id, userId: user.id, email: 'both@uib.no' } }),
    ).rejects.toThrow(/Subscription_user_xor_email_check/);
    await expect(db.subscription.create({ data: { channelId: channel.id } })).rejects.toThrow(
      /Subscription_user_xor_email_check/,
    );
    const byUser = await db.subscription.create({ data: { channelId: channel.id, userId: user.id } });
    await expect(db.subscription.update({ where: { id: byUser.id }, data: { userId: null } })).rejects.toThrow(
      /Subscription_user_xor_email_check/,
    );
    expect(await db.subscription.count({ where: { channelId: channel.id } })).toBe(1);
  });

  it('requires a maintenance notice to name the system and a window that ends after it starts', async () => {
    const channel = await makeChannel();
    const window = { affectedSystem: 'Fronter', startsAt: T1, endsAt: T2 };
    const base = { channelId: channel.id, title: 'Vedlikehald', body: 'B', type: 'maintenance' as const };
    for (const missing of ['affectedSystem', 'startsAt', 'endsAt'] as const) {
      await expect(
        db.announcement.create({ data: { ...base, ...window, [missing]: null } }),
        `without ${missing}`,
      ).rejects.toThrow(/Announcement_maintenance_window_check/);
    }
    await expect(db.announcement.create({ data: { ...base, ...window, endsAt: T1 } })).rejects.toThrow(
      /Announcement_maintenance_window_check/,
    );
    await expect(db.announcement.create({ data: { ...base, ...window, startsAt: T2, endsAt: T1 } })).rejects.toThrow(
      /Announcement_maintenance_window_check/,
    );
    const ok = await db.announcement.create({ data: { ...base, ...window } });
    await expect(db.announcement.update({ where: { id: ok.id }, data: { endsAt: null } })).rejects.toThrow(
      /Announcement_maintenance_window_check/,
    );
    // The window rule holds for every type; a general notice needs no window, and may have one end alone.
    const general = { channelId: channel.id, title: 'G', body: 'B' };
    await expect(db.announcement.create({ data: { ...general, startsAt: T2, endsAt: T2 } })).rejects.toThrow(
      /Announcement_maintenance_window_check/,
    );
    await db.announcement.create({ data: general });
    await db.announcement.create({ data: { ...general, type: 'incident', startsAt: T1 } });
    await db.announcement.create({ data: { ...general, type: 'release', endsAt: T1 } });
    // A maintenance notice turned into a general one keeps its (valid) window.
    await db.announcement.update({ where: { id: ok.id }, data: { type: 'general' } });
  });

  it('lets only incidents resolve, a deadline only with acknowledgement, and revisions from 1', async () => {
    const channel = await makeChannel();
    const base = { channelId: channel.id, title: 'T', body: 'B' };
    const incident = await db.announcement.create({ data: { ...base, type: 'incident' } });
    for (const type of ['general', 'maintenance', 'release'] as const) {
      const window = type === 'maintenance' ? { affectedSystem: 'X', startsAt: T1, endsAt: T2 } : {};
      await expect(
        db.announcement.create({ data: { ...base, ...window, type, resolvesId: incident.id } }),
        type,
      ).rejects.toThrow(/Announcement_resolves_check/);
    }
    const followUp = await db.announcement.create({ data: { ...base, type: 'incident', resolvesId: incident.id } });
    await expect(db.announcement.update({ where: { id: followUp.id }, data: { type: 'general' } })).rejects.toThrow(
      /Announcement_resolves_check/,
    );

    await expect(db.announcement.create({ data: { ...base, ackDeadline: T2 } })).rejects.toThrow(
      /Announcement_ack_check/,
    );
    const acked = await db.announcement.create({ data: { ...base, ackRequired: true, ackDeadline: T2 } });
    await expect(db.announcement.update({ where: { id: acked.id }, data: { ackRequired: false } })).rejects.toThrow(
      /Announcement_ack_check/,
    );
    await db.announcement.create({ data: { ...base, ackRequired: true } });

    for (const revision of [0, -1]) {
      await expect(db.announcement.create({ data: { ...base, revision } }), `revision ${revision}`).rejects.toThrow(
        /Announcement_revision_check/,
      );
    }
    await db.announcement.update({ where: { id: acked.id }, data: { revision: 1 } });
  });

  it("keeps an attachment's storage and bytes consistent, and its size not negative", async () => {
    const channel = await makeChannel();
    const announcement = await makeAnnouncement(channel.id);
    const base = { announcementId: announcement.id, filename: 'f', contentType: 'text/plain', size: 1, sha256: 'x' };
    const bytes = new Uint8Array([42]);
    for (const bad of [
      { storage: 'database', data: null },
      { storage: 'directory', data: bytes },
      { storage: 's3', data: null },
      { storage: 's3', data: bytes },
    ]) {
      await expect(
        db.attachment.create({ data: { ...base, ...bad, id: randomUUID() } }),
        JSON.stringify(bad.storage),
      ).rejects.toThrow(/Attachment_storage_check/);
    }
    const inRow = await db.attachment.create({ data: { ...base, id: randomUUID(), storage: 'database', data: bytes } });
    await db.attachment.create({ data: { ...base, id: randomUUID(), storage: 'directory', data: null } });
    await expect(db.attachment.update({ where: { id: inRow.id }, data: { data: null } })).rejects.toThrow(
      /Attachment_storage_check/,
    );
    await expect(
      db.attachment.create({ data: { ...base, id: randomUUID(), size: -1, storage: 'directory' } }),
    ).rejects.toThrow(/Attachment_size_check/);
    await db.attachment.create({
      data: { ...base, id: randomUUID(), size: 0, storage: 'database', data: new Uint8Array() },
    });
  });

  it('rejects references to rows that do not exist', async () => {
    await expect(
      db.announcement.create({ data: { channelId: randomUUID(), title: 't', body: 'b' } }),
    ).rejects.toMatchObject({ code: 'P2003' });
  });

  it('applies the declared onDelete rules (SetNull and Cascade)', async () => {
    const organisation = await makeOrganisation();
    const author = await makeUser(organisation.id);
    const subscriber = await makeUser(organisation.id);
    const channel = await db.channel.create({
      data: { slug: unique('cascade'), title: 'C', organisationId: organisation.id },
    });
    await db.channelRole.create({ data: { channelId: channel.id, userId: author.id, role: 'owner' } });
    const announcement = await makeAnnouncement(channel.id, author.id);
    const subscription = await db.subscription.create({ data: { channelId: channel.id, userId: subscriber.id } });
    const delivery = await db.delivery.create({
      data: {
        announcementId: announcement.id,
        subscriptionId: subscription.id,
        recipient: `user:${subscriber.id}`,
        medium: 'email',
      },
    });
    await db.apiToken.create({
      data: { userId: author.id, name: 't', prefix: 'mkt_c', tokenHash: unique('hash'), scopes: [] },
    });
    await db.outboxEvent.create({
      data: { type: 't', channelId: channel.id, aggregateId: announcement.id, payload: {} },
    });

    // Organisation → users and channels keep existing, detached.
    await db.organisation.delete({ where: { id: organisation.id } });
    expect((await db.user.findUniqueOrThrow({ where: { id: author.id } })).organisationId).toBeNull();
    expect((await db.channel.findUniqueOrThrow({ where: { id: channel.id } })).organisationId).toBeNull();

    // Subscriber → their subscription goes; the delivery record stays, detached from it.
    await db.user.delete({ where: { id: subscriber.id } });
    expect(await db.subscription.findUnique({ where: { id: subscription.id } })).toBeNull();
    expect((await db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).subscriptionId).toBeNull();

    // Author → the announcement stays without author; roles and tokens go.
    await db.user.delete({ where: { id: author.id } });
    expect((await db.announcement.findUniqueOrThrow({ where: { id: announcement.id } })).authorId).toBeNull();
    expect(await db.channelRole.count({ where: { userId: author.id } })).toBe(0);
    expect(await db.apiToken.count({ where: { userId: author.id } })).toBe(0);

    // Channel → everything in it goes.
    await db.channel.delete({ where: { id: channel.id } });
    expect(await db.announcement.count({ where: { channelId: channel.id } })).toBe(0);
    expect(await db.delivery.count({ where: { announcementId: announcement.id } })).toBe(0);
    expect(await db.outboxEvent.count({ where: { channelId: channel.id } })).toBe(0);
  });

  it('applies the onDelete rules of incidents, translations, revisions, acknowledgements and attachments', async () => {
    const organisation = await makeOrganisation();
    const [channel, editor, reader] = await Promise.all([makeChannel(), makeUser(), makeUser(organisation.id)]);
    const announcement = await makeAnnouncement(channel.id, editor.id);
    const other = await makeAnnouncement(channel.id, editor.id);
    const incident = await db.announcement.create({
      data: { channelId: channel.id, title: 'Nede', body: 'B', type: 'incident' },
    });
    const followUp = await db.announcement.create({
      data: { channelId: channel.id, title: 'Løyst', body: 'B', type: 'incident', resolvesId: incident.id },
    });
    for (const target of [announcement, other]) {
      await db.announcementTranslation.create({
        data: { announcementId: target.id, language: 'en', title: 'T', body: 'B' },
      });
      await db.announcementRevision.create({
        data: { announcementId: target.id, revision: 2, editorId: editor.id, material: true, content: {} },
      });
      await db.announcementAcknowledgement.create({
        data: { announcementId: target.id, userId: reader.id, organisationId: organisation.id },
      });
      await db.attachment.create({
        data: {
          id: randomUUID(),
          announcementId: target.id,
          filename: 'f',
          contentType: 'text/plain',
          size: 0,
          sha256: 'x',
          storage: 'directory',
          uploaderId: editor.id,
        },
      });
    }

    // The incident goes → its follow-up stays, resolving nothing.
    await db.announcement.delete({ where: { id: incident.id } });
    expect((await db.announcement.findUniqueOrThrow({ where: { id: followUp.id } })).resolvesId).toBeNull();

    // The reader's organisation goes → acknowledgements stay, counted under no organisation.
    await db.organisation.delete({ where: { id: organisation.id } });
    expect(await db.announcementAcknowledgement.count({ where: { userId: reader.id, organisationId: null } })).toBe(2);

    // The editor goes → revisions and attachments stay, without editor and uploader.
    await db.user.delete({ where: { id: editor.id } });
    expect(await db.announcementRevision.count({ where: { editorId: null, announcementId: announcement.id } })).toBe(1);
    expect(await db.attachment.count({ where: { uploaderId: null, announcementId: announcement.id } })).toBe(1);

    // The reader goes → their acknowledgements go.
    await db.user.delete({ where: { id: reader.id } });
    expect(await db.announcementAcknowledgement.count({ where: { userId: reader.id } })).toBe(0);

    // The announcement goes → its translations, revisions and attachments go; the other's stay.
    await db.announcement.delete({ where: { id: announcement.id } });
    const of = (announcementId: string) => ({ where: { announcementId } });
    expect(await db.announcementTranslation.count(of(announcement.id))).toBe(0);
    expect(await db.announcementRevision.count(of(announcement.id))).toBe(0);
    expect(await db.attachment.count(of(announcement.id))).toBe(0);
    expect(await db.announcementTranslation.count(of(other.id))).toBe(1);
    expect(await db.announcementRevision.count(of(other.id))).toBe(1);
    expect(await db.attachment.count(of(other.id))).toBe(1);
    const reread = await db.user.create({ data: { displayName: 'r' } });
    await db.announcementAcknowledgement.create({ data: { announcementId: other.id, userId: reread.id } });
    await db.announcement.delete({ where: { id: other.id } });
    expect(await db.announcementAcknowledgement.count(of(other.id))).toBe(0);
  });

  it('removes push subscriptions with their user, webhooks with their channel, and keeps webhooks of a former user', async () => {
    const [channel, owner, reader] = await Promise.all([makeChannel(), makeUser(), makeUser()]);
    await db.pushSubscription.create({
      data: { id: randomUUID(), userId: reader.id, endpoint: unique('https://push.example/'), p256dh: 'k', auth: 'a' },
    });
    const webhook = await db.webhook.create({
      data: { id: randomUUID(), channelId: channel.id, url: 'https://example.no', secret: 's', createdById: owner.id },
    });
    await db.user.delete({ where: { id: reader.id } });
    expect(await db.pushSubscription.count({ where: { userId: reader.id } })).toBe(0);
    await db.user.delete({ where: { id: owner.id } });
    expect((await db.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).createdById).toBeNull();
    await db.channel.delete({ where: { id: channel.id } });
    expect(await db.webhook.count({ where: { channelId: channel.id } })).toBe(0);
  });
});

describe('migration 20261126170000_announcements_full on a database with data', () => {
  const TARGET = '20261126170000_announcements_full';
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async function writeMigrations(dir: string, migrations: { name: string; sql: string }[]): Promise<void> {
    for (const migration of migrations) {
      await mkdir(join(dir, migration.name), { recursive: true });
      await writeFile(join(dir, migration.name, 'migration.sql'), migration.sql);
    }
  }

  it('gives every announcement that existed before it revision 1 with its content, and keeps deliveries', async () => {
    const database = await createEmptyDatabase();
    cleanups.push(database.drop);
    const dir = await mkdtemp(join(tmpdir(), 'mk-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    const migrations = await readMigrations(MIGRATIONS_DIR);
    const at = migrations.findIndex((m) => m.name === TARGET);
    expect(at).toBeGreaterThan(0);
    await writeMigrations(dir, migrations.slice(0, at));
    await migrate(database.url, dir, () => {});

    // Data as the application wrote it before: published, a draft without publishedAt, retracted, authorless.
    const [author] = await sql<{ id: string }>(
      database.url,
      `INSERT INTO "User" (id, "displayName", "updatedAt") VALUES (gen_random_uuid(), 'Ada', now()) RETURNING id`,
    );
    const [channel] = await sql<{ id: string }>(
      database.url,
      `INSERT INTO "Channel" (id, slug, title, "updatedAt") VALUES (gen_random_uuid(), 'c', 'C', now()) RETURNING id`,
    );
    const rows = [
      { title: 'Publisert', body: 'æøå **b**', status: 'published', publishedAt: T2, authorId: author!.id },
      { title: 'Utkast', body: 'u', status: 'draft', publishedAt: null, authorId: author!.id },
      { title: 'Trekt', body: 't', status: 'retracted', publishedAt: T3, authorId: null },
    ];
    const ids: string[] = [];
    for (const row of rows) {
      const [inserted] = await sql<{ id: string }>(
        database.url,
        `INSERT INTO "Announcement" (id, "channelId", "authorId", title, body, status, "publishedAt", "createdAt", "updatedAt")
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, now()) RETURNING id`,
        [channel!.id, row.authorId, row.title, row.body, row.status, row.publishedAt, T1],
      );
      ids.push(inserted!.id);
    }
    await sql(
      database.url,
      `INSERT INTO "Delivery" ("announcementId", recipient, medium, status, "updatedAt")
       VALUES ($1, 'user:x', 'email', 'sent', now()), ($1, 'user:x', 'push', 'pending', now())`,
      [ids[0]],
    );

    await writeMigrations(dir, migrations.slice(at));
    expect((await migrate(database.url, dir, () => {})).applied).toEqual(migrations.slice(at).map((m) => m.name));

    const revisions = await sql<{
      announcementId: string;
      revision: number;
      editorId: string | null;
      material: boolean;
      note: string | null;
      content: unknown;
      createdAt: Date;
    }>(
      database.url,
      `SELECT "announcementId", revision, "editorId", material, note, content, "createdAt"
         FROM "AnnouncementRevision" ORDER BY "createdAt", "announcementId"`,
    );
    const expected = rows.map((row, i) => ({
      announcementId: ids[i],
      revision: 1,
      editorId: row.authorId,
      material: true,
      note: null,
      content: { language: 'nb', title: row.title, summary: null, body: row.body, translations: [] },
      // Dated when it was published; a draft, when it was written.
      createdAt: row.publishedAt ?? T1,
    }));
    expect(revisions).toEqual(
      expected.sort(
        (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.announcementId!.localeCompare(b.announcementId!),
      ),
    );
    const announcements = await sql(
      database.url,
      `SELECT revision, language::text, type::text, "audienceOrganisationIds", "ackRequired", "editedAt"
         FROM "Announcement" ORDER BY title`,
    );
    expect(announcements).toEqual(
      rows.map(() => ({
        revision: 1,
        language: 'nb',
        type: 'general',
        audienceOrganisationIds: [],
        ackRequired: false,
        editedAt: null,
      })),
    );
    // The ledger's old rows are announcement messages of revision 0, and the old uniqueness still holds for them.
    expect(
      await sql(database.url, `SELECT medium::text, kind::text, revision FROM "Delivery" ORDER BY medium`),
    ).toEqual([
      { medium: 'email', kind: 'announcement', revision: 0 },
      { medium: 'push', kind: 'announcement', revision: 0 },
    ]);
    await expect(
      sql(
        database.url,
        `INSERT INTO "Delivery" ("announcementId", recipient, medium, "updatedAt") VALUES ($1, 'user:x', 'email', now())`,
        [ids[0]],
      ),
    ).rejects.toThrow(/Delivery_announcementId_recipient_medium_kind_revision_key/);
  });
});
