/**
 * The objects the contract fuzzer acts on (tests/fuzz): one test file's database with an administrator and an
 * example of everything a path can name, so generated requests reach the services instead of stopping at 404.
 * Objects that an operation changes for good (deleting, retracting, publishing a draft) come in pools of their own
 * for that operation; once used up, the operation answers 404 or 409, which is as good a test as any.
 */
import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { suppressAddress } from '../../../src/db/suppression.js';
import { buildApp } from '../../../src/http/app.js';
import { signConfirmationToken } from '../../../src/mail/confirmation-token.js';
import { signUnsubscribeToken } from '../../../src/mail/unsubscribe-token.js';
import { generateVapidKeys } from '../../../src/push/sender.js';
import { createApiToken } from '../../../src/services/tokens.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../context.js';
import { createSubscription } from '../delivery.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../factories.js';

export interface FuzzWorld {
  ctx: TestContext;
  app: FastifyInstance;
  /** The listening address (`http://127.0.0.1:<port>`), for WebSocket and event-stream clients. */
  address: string;
  // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document, walked generically
  doc: any;
  admin: TestUser;
  adminToken: string;
  /** Pools of real values by name (see POOL_NAMES), each a few strings. */
  pools: Record<PoolName, string[]>;
  /** The tables whose row counts are compared around refused requests. */
  tables: string[];
  close(): Promise<void>;
}

export type PoolName =
  | 'slug'
  | 'doomedSlug'
  | 'announcement'
  | 'retractable'
  | 'draft'
  | 'scheduled'
  | 'incident'
  | 'acknowledgeable'
  | 'maintenance'
  | 'attachment'
  | 'doomedAttachment'
  | 'filename'
  | 'user'
  | 'ownToken'
  | 'otherToken'
  | 'feedToken'
  | 'pushSubscription'
  | 'webhook'
  | 'doomedWebhook'
  | 'organisation'
  | 'queue'
  | 'suppressed'
  | 'unsubscribeToken'
  | 'confirmationToken';

function unique(): string {
  return randomBytes(4).toString('hex');
}

/** What a browser's PushSubscription.toJSON() gives: an endpoint at an accepted push service and fresh keys. */
export function browserPushSubscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/${unique()}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

/** Settings for a fuzzing world: no rate limits in the way, web push on, webhook calls that give up quickly. */
function fuzzSettings(): Record<string, string> {
  const vapid = generateVapidKeys();
  return {
    RATE_LIMIT_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000',
    WS_MAX_CONNECTIONS_PER_IP: '1000',
    DATABASE_POOL_SIZE: '5',
    WEBHOOK_TIMEOUT_MS: '500',
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:drift@example.no',
  };
}

const POOL_SIZE = 4;

export async function createFuzzWorld(): Promise<FuzzWorld> {
  const ctx = await createTestContext(fuzzSettings());
  const db = ctx.deps.db;
  const app = await buildApp(ctx.deps, { logger: false });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();

  const admin = await createUser(db, { isAdmin: true, organisationCode: 'UiO' });
  const adminToken = await tokenFor(db, admin.id);
  const others: TestUser[] = [];
  // One at a time: createUser makes the organisation on first use.
  for (const code of ['UiB', 'NTNU', 'UiT', 'UiB']) others.push(await createUser(db, { organisationCode: code }));
  await db.organisation.create({ data: { code: 'Fuzz', name: 'Fuzz', realm: 'fuzz.example.no' } });

  const times = (n: number) => Array.from({ length: n }, (_, i) => i);
  const channels = [
    await createChannel(db, { slug: `fuzz-public-${unique()}`, visibility: 'public' }),
    await createChannel(db, { slug: `fuzz-internal-${unique()}`, visibility: 'internal' }),
    await createChannel(db, { slug: `fuzz-restricted-${unique()}`, visibility: 'restricted' }),
  ];
  const [publicChannel] = channels as [(typeof channels)[number]];
  for (const channel of channels) await grantRole(db, channel.id, others[0]!.id, 'publisher');
  const doomed = await Promise.all(times(POOL_SIZE).map(() => createChannel(db, { slug: `fuzz-doomed-${unique()}` })));

  const announcement = (data: Record<string, unknown> = {}) =>
    db.announcement
      .create({
        data: {
          channelId: publicChannel.id,
          title: 'Kunngjøring',
          body: 'Tekst med **uthevet** ord',
          publishedAt: new Date(),
          ...data,
        },
      })
      .then((row) => row.id);
  const many = (n: number, data: Record<string, unknown> = {}) => Promise.all(times(n).map(() => announcement(data)));
  const published = [...(await many(3)), await announcement({ channelId: channels[2]!.id })];
  const hour = 3_600_000;
  const maintenance = await many(2, {
    type: 'maintenance',
    affectedSystem: 'BOTT ØL',
    startsAt: new Date(Date.now() + hour),
    endsAt: new Date(Date.now() + 2 * hour),
  });

  const attachment = (announcementId: string) =>
    db.attachment
      .create({
        data: {
          id: randomUUID(),
          announcementId,
          filename: 'vedlegg.txt',
          contentType: 'text/plain',
          size: 3,
          sha256: 'f9d1af62d004d4da648929bc7dde552685979d6e6a78dc8f9b64eb08e9c4ccb7',
          storage: 'database',
          data: Buffer.from('hei'),
        },
      })
      .then((row) => row.id);

  const webhook = () =>
    db.webhook
      .create({
        data: {
          id: randomUUID(),
          channelId: publicChannel.id,
          url: 'http://192.0.2.10/fuzz-hook',
          secret: `whsec_${randomBytes(32).toString('base64')}`,
        },
      })
      .then((row) => row.id);

  const unsubscribeToken = async () => {
    const subscription = await createSubscription(db, { channelId: publicChannel.id });
    return signUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, {
      subscriptionId: subscription.id,
      recipient: `email:${subscription.email}`,
    });
  };
  const confirmationToken = async () => {
    const email = `fuzz-${unique()}@example.org`;
    const row = await db.subscription.create({ data: { channelId: publicChannel.id, email, source: 'self' } });
    return signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, address: email });
  };
  const suppressed = async () => {
    const email = `fuzz-${unique()}@example.org`;
    await suppressAddress(db, { email, reason: 'bounce', detail: '550', deliveryId: null });
    return email;
  };
  const pushSubscription = async () => {
    const browser = browserPushSubscription();
    const row = await db.pushSubscription.create({
      data: {
        id: randomUUID(),
        userId: admin.id,
        endpoint: browser.endpoint,
        p256dh: browser.keys.p256dh,
        auth: browser.keys.auth,
      },
    });
    return row.id;
  };
  const feedToken = async () =>
    (
      await db.feedToken.create({
        data: { userId: admin.id, tokenHash: randomBytes(32).toString('hex'), prefix: 'mkf_fuzz' },
      })
    ).id;
  const apiToken = async (userId: string) => (await createApiToken(db, { userId, name: `fuzz ${unique()}` })).id;

  const pools: Record<PoolName, string[]> = {
    slug: channels.map((c) => c.slug),
    doomedSlug: doomed.map((c) => c.slug),
    announcement: published,
    retractable: await many(POOL_SIZE),
    draft: await many(POOL_SIZE, { status: 'draft', publishedAt: null }),
    scheduled: await many(POOL_SIZE, {
      status: 'scheduled',
      publishedAt: null,
      publishAt: new Date(Date.now() + hour),
    }),
    incident: await many(2, { type: 'incident' }),
    acknowledgeable: await many(2, { ackRequired: true }),
    maintenance,
    attachment: await Promise.all(published.slice(0, 2).map(attachment)),
    doomedAttachment: await Promise.all(times(POOL_SIZE).map(() => attachment(published[0]!))),
    filename: ['vedlegg.txt', 'Tidsplan ØL.pdf', 'a%2Fb'],
    user: others.map((u) => u.id),
    ownToken: await Promise.all(times(POOL_SIZE).map(() => apiToken(admin.id))),
    otherToken: await Promise.all(times(POOL_SIZE).map(() => apiToken(others[1]!.id))),
    feedToken: await Promise.all(times(POOL_SIZE).map(feedToken)),
    pushSubscription: await Promise.all(times(POOL_SIZE).map(pushSubscription)),
    webhook: await Promise.all(times(2).map(webhook)),
    doomedWebhook: await Promise.all(times(POOL_SIZE).map(webhook)),
    organisation: ['UiO', 'UiB', 'Fuzz', 'uio'],
    queue: ['email', 'fanout', 'webhook', 'no-such-queue'],
    suppressed: await Promise.all(times(2).map(suppressed)),
    unsubscribeToken: await Promise.all(times(POOL_SIZE).map(unsubscribeToken)),
    confirmationToken: await Promise.all(times(POOL_SIZE).map(confirmationToken)),
  };

  const tableRows = await db.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`;
  const tables = tableRows.map((t) => t.name).filter((name) => !name.startsWith('_'));

  return {
    ctx,
    app,
    address,
    doc,
    admin,
    adminToken,
    pools,
    tables,
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}

/** Row counts of every table, in one query. */
export async function rowCounts(world: FuzzWorld): Promise<Record<string, number>> {
  const columns = world.tables.map((table) => `'${table}', (SELECT count(*) FROM "${table}")`).join(', ');
  const [row] = await world.ctx.deps.db.$queryRawUnsafe<{ counts: Record<string, number> }[]>(
    `SELECT json_build_object(${columns}) AS counts`,
  );
  return row!.counts;
}
