/**
 * Proves that the hand-written migration SQL (prisma/migrations) and prisma/schema.prisma describe the same database:
 * on a freshly migrated database, every model is created, read, updated and deleted through the generated client with
 * every field set, declared defaults come from the database, unique constraints and relations behave as declared, and
 * the one hand-written CHECK holds. A column, type, enum value or constraint that differs makes one of these fail.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/prisma.js';
import { $Enums, Prisma } from '../../src/generated/prisma/client.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

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
    const data = {
      id: randomUUID(),
      channelId: channel.id,
      authorId: author.id,
      title: 'Felles økonomi- og lønnstjeneste',
      body: '# Tidsplan\n\n- UiB og UiO: januar 2021\n- NTNU og UiT: januar 2022\n\n`kode` ✓ 🚀',
      importance: $Enums.Importance.critical,
      status: $Enums.AnnouncementStatus.draft,
      publishedAt: T2,
      retractedAt: null,
      pinnedAt: T1,
      pinnedUntil: T2,
      createdAt: T1,
      updatedAt: T1,
    };
    expectEveryField('Announcement', data);
    expect(await db.announcement.create({ data })).toEqual(data);
    const read = await db.announcement.findUniqueOrThrow({
      where: { id: data.id },
      include: { channel: true, author: true },
    });
    expect([read.channel.id, read.author?.id]).toEqual([channel.id, author.id]);

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
    };
    await db.announcement.update({ where: { id: data.id }, data: changes });
    expect(await db.announcement.findUniqueOrThrow({ where: { id: data.id } })).toEqual({ ...data, ...changes });

    await db.announcement.delete({ where: { id: data.id } });
    expect(await db.announcement.findUnique({ where: { id: data.id } })).toBeNull();
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
      attempts: 2_147_483_647,
    };
    expectEveryField('OutboxEvent', data);
    expect(await db.outboxEvent.create({ data })).toEqual(data);
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: data.id }, include: { channel: true } })).toEqual({
      ...data,
      channel,
    });

    const changes = { type: 'announcement.retracted', payload: ['a', 1], relayedAt: null, attempts: 0, createdAt: T3 };
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
        announcementId_recipient_medium: {
          announcementId: announcement.id,
          recipient: data.recipient,
          medium: 'webhook',
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
    const subscriptionRow = await db.subscription.findUniqueOrThrow({ where: { id: subscription!.id } });
    expect(subscriptionRow).toMatchObject({ email: null, emailMode: 'immediate', language: 'nb', confirmedAt: null });
    const event = await db.outboxEvent.findUniqueOrThrow({ where: { id: events[0]!.id } });
    expect(event).toMatchObject({ relayedAt: null, attempts: 0 });
    expect(events[1]!.id).toBeGreaterThan(events[0]!.id);
    const deliveryRow = await db.delivery.findUniqueOrThrow({ where: { id: delivery!.id } });
    expect(deliveryRow).toMatchObject({
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
    await expectUniqueViolation(db.delivery.create({ data: delivery }), 'Delivery_announcementId_recipient_medium_key');
    // Another medium for the same recipient is a different delivery.
    await db.delivery.create({ data: { ...delivery, medium: 'push' } });

    const tokenHash = unique('hash');
    await db.apiToken.create({ data: { userId: user.id, name: 'a', prefix: 'mkt_a', tokenHash, scopes: [] } });
    await expectUniqueViolation(
      db.apiToken.create({ data: { userId: user.id, name: 'b', prefix: 'mkt_b', tokenHash, scopes: [] } }),
      'ApiToken_tokenHash_key',
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
});
