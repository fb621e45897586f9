/**
 * The authorisation matrix: EVERY operation of the OpenAPI document × every kind of actor × the objects they do and
 * do not own, each sent as a valid request and its answer compared with the table below.
 *
 * - An operation without a row fails the test (so does a row without an operation): a new route needs its
 *   expectations written down here before CI passes. Its declared policy (`x-policy`) must match the row's too.
 * - Every route the app registers has a policy (routes outside the document are listed in HIDDEN_ROUTES).
 * - A 404 is only accepted when it is identical (status, error code, message) to the answer for an object that does
 *   not exist: denied reads never reveal that something exists.
 *
 * Actors use API tokens with every scope their user may hold; sessions reach the same actor through the auth plugin
 * (one smoke test below). To add a row: write the operation, its policy and one outcome string per object, then a
 * request builder in REQUESTS.
 */
import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressAddress } from '../../src/db/suppression.js';
import type { ChannelRoleKind } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { policyLabel, type RoutePolicy } from '../../src/http/policy.js';
import { signConfirmationToken } from '../../src/mail/confirmation-token.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { generateVapidKeys } from '../../src/push/sender.js';
import { csrfTokenFor, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { createApiToken } from '../../src/services/tokens.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription } from '../helpers/delivery.js';
import {
  createChannel,
  createUser,
  grantRole,
  type TestChannel,
  type TestUser,
  tokenFor,
} from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';

/** The columns of every outcome string, in this order. */
const ACTORS = ['admin', 'ownerA', 'publisherB', 'uib', 'ntnu', 'outsider', 'anonymous'] as const;
type ActorName = (typeof ACTORS)[number];
type UserName = Exclude<ActorName, 'anonymous'>;

/**
 * Outcomes: Y allowed (2xx) · U 401 (no credentials) · F 403 (may know the object, may not do this) ·
 * H 404, identical to the answer for an object that does not exist.
 *
 * Objects: public = a public channel without roles; B = internal channel where publisherB publishes; A = restricted
 * channel owned by ownerA. `X:role` = granting or revoking `role` to/from a third person in X. own/other = the
 * actor's own token or someone else's. `-` = the operation has no object.
 * Actors: admin (no organisation) · ownerA (UiO) · publisherB (UiT) · uib (UiB) · ntnu (NTNU) · outsider (a user
 * from no member organisation) · anonymous.
 */
// biome-ignore format: read as a table; one line per operation
const EXPECTED: [operation: string, policy: string, outcomes: Record<string, string>][] = [
  //                                                                    admin ownerA publisherB uib ntnu outsider anonymous
  ['get /healthz',                                 'operational',    { '-': 'YYYYYYY' }],
  ['get /readyz',                                  'operational',    { '-': 'YYYYYYY' }],
  ['get /unsubscribe',                             'public',         { '-': 'YYYYYYY' }],
  ['post /unsubscribe',                            'public',         { '-': 'YYYYYYY' }],
  ['get /subscriptions/confirm',                   'public',         { '-': 'YYYYYYY' }],
  ['post /subscriptions/confirm',                  'public',         { '-': 'YYYYYYY' }],
  // Bare addresses only read public channels: any other answers 404 to everyone, like a missing one. (Restricted
  // channels too, in tests/http/email-subscriptions.test.ts: one more object would exceed the route's per-IP limit.)
  ['post /api/v1/channels/{slug}/email-subscriptions','public',      { public: 'YYYYYYY', B: 'HHHHHHH' }],
  // Imports are for public channels only (409 for others, whoever asks); the matrix's public channel has no owner.
  ['post /api/v1/channels/{slug}/email-subscriptions/import','channel:manage',{ public: 'YFFFFFU' }],
  ['get /api/v1/admin/suppressions',               'admin',          { '-': 'YFFFFFU' }],
  ['get /api/v1/live',                             'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['get /api/v1/live/sse',                         'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['post /api/v1/channels',                        'admin',          { '-': 'YFFFFFU' }],
  ['get /api/v1/channels',                         'public',         { '-': 'YYYYYYY' }],
  ['get /api/v1/directory',                        'public',         { '-': 'YYYYYYY' }],
  ['get /api/v1/search',                           'public',         { '-': 'YYYYYYY' }],
  ['get /api/v1/channels/{slug}',                  'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['patch /api/v1/channels/{slug}',                'channel:manage', { public: 'YFFFFFU', B: 'YFFFFHU', A: 'YYHHHHU' }],
  ['delete /api/v1/channels/{slug}',               'admin',          { public: 'YFFFFFU', B: 'YFFFFFU', A: 'YFFFFFU' }],
  ['get /api/v1/channels/{slug}/roles',            'channel:manage', { public: 'YFFFFFU', B: 'YFFFFHU', A: 'YYHHHHU' }],
  ['put /api/v1/channels/{slug}/roles/{userId}',   'channel:manage', { 'public:publisher': 'YFFFFFU', 'B:publisher': 'YFFFFHU', 'A:publisher': 'YYHHHHU', 'A:owner': 'YFHHHHU' }],
  ['delete /api/v1/channels/{slug}/roles/{userId}','channel:manage', { 'public:publisher': 'YFFFFFU', 'B:publisher': 'YFFFFHU', 'A:publisher': 'YYHHHHU', 'A:owner': 'YFHHHHU' }],
  ['post /api/v1/channels/{slug}/announcements',   'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['get /api/v1/channels/{slug}/announcements',    'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['get /api/v1/announcements/{id}',               'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['get /api/v1/announcements/{id}/calendar.ics',  'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['post /api/v1/announcements/{id}/retract',      'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['put /api/v1/announcements/{id}/pin',           'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['delete /api/v1/announcements/{id}/pin',        'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['post /api/v1/announcements/{id}/attachments',  'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['get /api/v1/announcements/{id}/attachments',   'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['get /api/v1/attachments/{id}/{filename}',      'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['delete /api/v1/attachments/{id}',              'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['get /api/v1/channels/{slug}/drafts',          'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['post /api/v1/announcements/{id}/publish',      'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['post /api/v1/announcements/{id}/unschedule',   'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['patch /api/v1/announcements/{id}',             'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['get /api/v1/announcements/{id}/revisions',     'channel:read',   { public: 'YYYYYYY', B: 'YYYYYHH', A: 'YYHHHHH' }],
  ['get /api/v1/me/subscriptions',                 'self',           { '-': 'YYYYYYU' }],
  ['put /api/v1/me/subscriptions/{slug}',          'self',           { public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['delete /api/v1/me/subscriptions/{slug}',       'self',           { subscribed: 'YYYYYYU', 'A, not subscribed': 'HHHHHHU' }],
  ['get /api/v1/push/public-key',                  'signedIn',       { '-': 'YYYYYYU' }],
  ['get /api/v1/me/push-subscriptions',            'self',           { '-': 'YYYYYYU' }],
  ['post /api/v1/me/push-subscriptions',           'self',           { '-': 'YYYYYYU' }],
  ['delete /api/v1/me/push-subscriptions/{id}',    'self',           { own: 'YYYYYYU', other: 'HHHHHHU' }],
  ['get /api/v1/me/tokens',                        'self',           { '-': 'YYYYYYU' }],
  ['post /api/v1/me/tokens',                       'self',           { '-': 'YFFFFFU' }],
  ['delete /api/v1/me/tokens/{id}',                'self',           { own: 'YYYYYYU', other: 'HHHHHHU' }],
  ['delete /api/v1/tokens/{id}',                   'admin',          { own: 'YFFFFFU', other: 'YFFFFFU' }],
  ['get /api/v1/me/feed-tokens',                   'self',           { '-': 'YYYYYYU' }],
  ['post /api/v1/me/feed-tokens',                  'self',           { '-': 'YFFFFFU' }],
  ['delete /api/v1/me/feed-tokens/{id}',           'self',           { own: 'YYYYYYU', other: 'HHHHHHU' }],
  ['get /api/v1/organisations',                    'public',         { '-': 'YYYYYYY' }],
  ['post /api/v1/organisations',                   'admin',          { '-': 'YFFFFFU' }],
  ['patch /api/v1/organisations/{code}',           'admin',          { '-': 'YFFFFFU' }],
  ['get /api/v1/me',                               'self',           { '-': 'YYYYYYU' }],
  ['get /api/v1/me/export',                        'self',           { '-': 'YYYYYYU' }],
  ['delete /api/v1/me',                            'self',           { '-': 'FFFFFFU' }],
  ['post /api/v1/live/tickets',                    'signedIn',       { '-': 'YYYYYYU' }],
  ['get /api/v1/admin/audit',                      'admin',          { '-': 'YFFFFFU' }],
  ['get /api/v1/admin/queues',                     'admin',          { '-': 'YFFFFFU' }],
  ['get /api/v1/admin/queues/{name}/failed',       'admin',          { '-': 'YFFFFFU' }],
  ['get /api/v1/announcements/{id}/deliveries',    'channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['post /api/v1/announcements/{id}/deliveries/retry','channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
  ['get /api/v1/me/feed',                          'self',           { '-': 'YYYYYYU' }],
  ['get /api/v1/me/unread',                        'self',           { '-': 'YYYYYYU' }],
  ['put /api/v1/me/reads/{id}',                    'self',           { public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['delete /api/v1/me/reads/{id}',                 'self',           { public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['post /api/v1/me/reads',                        'self',           { all: 'YYYYYYU', public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['put /api/v1/announcements/{id}/rating',        'signedIn',       { public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['delete /api/v1/announcements/{id}/rating',     'signedIn',       { public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['post /api/v1/announcements/{id}/acknowledgement','signedIn',      { public: 'YYYYYYU', B: 'YYYYYHU', A: 'YYHHHHU' }],
  ['post /api/v1/channels/{slug}/webhooks',        'channel:manage', { public: 'YFFFFFU', B: 'YFFFFHU', A: 'YYHHHHU' }],
  ['get /api/v1/channels/{slug}/webhooks',         'channel:manage', { public: 'YFFFFFU', B: 'YFFFFHU', A: 'YYHHHHU' }],
  // A webhook by id is 404 to everyone who may not manage its channel, even where they may read the channel.
  ['get /api/v1/webhooks/{id}',                    'channel:manage', { public: 'YHHHHHU', B: 'YHHHHHU', A: 'YYHHHHU' }],
  ['patch /api/v1/webhooks/{id}',                  'channel:manage', { public: 'YHHHHHU', B: 'YHHHHHU', A: 'YYHHHHU' }],
  ['delete /api/v1/webhooks/{id}',                 'channel:manage', { public: 'YHHHHHU', B: 'YHHHHHU', A: 'YYHHHHU' }],
  ['post /api/v1/webhooks/{id}/rotate-secret',     'channel:manage', { public: 'YHHHHHU', B: 'YHHHHHU', A: 'YYHHHHU' }],
  ['post /api/v1/webhooks/{id}/test',              'channel:manage', { public: 'YHHHHHU', B: 'YHHHHHU', A: 'YYHHHHU' }],
  ['get /api/v1/announcements/{id}/acknowledgements','channel:publish',{ public: 'YFFFFFU', B: 'YFYFFHU', A: 'YYHHHHU' }],
];

/**
 * Routes left out of the OpenAPI document and out of the table (pages, the document itself, Swagger UI, sign-in
 * redirects, CORS preflights), with their policies.
 */
const HIDDEN_ROUTES: Record<string, string> = {
  'GET /': 'public',
  // The web push service worker (src/http/routes/push.ts): a script for browsers, not an API operation.
  'GET /sw.js': 'public',
  'OPTIONS *': 'public',
  'GET /auth/login': 'public',
  'GET /auth/callback': 'public',
  'GET /auth/logout': 'public',
  'POST /auth/logout': 'public',
  // Feed documents (src/http/routes/feeds.ts): plain URLs for feed readers, not JSON API operations.
  'GET /feeds/channels/:file': 'public',
  'GET /feeds/public.rss': 'public',
  'GET /feeds/public.atom': 'public',
  'GET /feeds/public.json': 'public',
  'GET /feeds/me/:file': 'public',
  'GET /api/openapi.json': 'public',
  'GET /api/docs': 'public',
  'GET /api/docs/': 'public',
  'GET /api/docs/json': 'public',
  'GET /api/docs/yaml': 'public',
  'GET /api/docs/static/index.html': 'public',
  'GET /api/docs/static/swagger-initializer.js': 'public',
  'GET /api/docs/static/*': 'public',
  // The web app (src/http/plugins/web.ts, src/http/routes/web/): its assets, the language form and the pages. Pages
  // answer people with HTML; tests/http/web-*.test.ts check each page's access (sign-in, 403, 404 alike).
  'GET /assets/*': 'public',
  'POST /language': 'public',
  'GET /channels': 'public',
  'GET /channels/:slug': 'public',
  'POST /channels/:slug/subscription': 'self',
  'POST /channels/:slug/email-subscription': 'public',
  'GET /announcements/:id': 'public',
  'POST /announcements/:id/rating': 'signedIn',
  'POST /announcements/:id/acknowledgement': 'signedIn',
  'GET /search': 'public',
  'GET /me/feed': 'self',
  'POST /me/feed/:id/read': 'self',
  'POST /me/feed/read-all': 'self',
  'GET /me/subscriptions': 'self',
  'POST /me/subscriptions': 'self',
  'GET /me/account': 'self',
  'POST /me/account/tokens': 'self',
  'POST /me/account/tokens/:id/revoke': 'self',
  'POST /me/account/feed-urls': 'self',
  'POST /me/account/feed-urls/:id/revoke': 'self',
  'GET /me/account/delete': 'self',
  'POST /me/account/delete': 'self',
  'GET /publish': 'signedIn',
  'GET /channels/:slug/announcements/new': 'signedIn',
  'POST /channels/:slug/announcements/new': 'signedIn',
  'GET /announcements/:id/edit': 'signedIn',
  'POST /announcements/:id/edit': 'signedIn',
  'POST /publish/preview': 'signedIn',
  'GET /announcements/:id/deliveries': 'signedIn',
  'POST /announcements/:id/deliveries/retry': 'signedIn',
  'GET /announcements/:id/retract': 'signedIn',
  'POST /announcements/:id/retract': 'signedIn',
  'GET /channels/:slug/settings': 'signedIn',
  'POST /channels/:slug/settings': 'signedIn',
  'POST /channels/:slug/settings/roles': 'signedIn',
  'POST /channels/:slug/settings/roles/revoke': 'signedIn',
  'POST /channels/:slug/settings/webhooks': 'signedIn',
  'POST /channels/:slug/settings/webhooks/:id/rotate': 'signedIn',
  'POST /channels/:slug/settings/webhooks/:id/delete': 'signedIn',
  'GET /admin': 'admin',
  'GET /admin/channels': 'admin',
  'POST /admin/channels': 'admin',
  'GET /admin/channels/:slug': 'admin',
  'POST /admin/channels/:slug/owners': 'admin',
  'POST /admin/channels/:slug/owners/remove': 'admin',
  'GET /admin/channels/:slug/delete': 'admin',
  'POST /admin/channels/:slug/delete': 'admin',
  'GET /admin/organisations': 'admin',
  'POST /admin/organisations': 'admin',
  'GET /admin/organisations/:code': 'admin',
  'POST /admin/organisations/:code': 'admin',
  'GET /admin/users': 'admin',
  'GET /admin/users/:id': 'admin',
  'POST /admin/users/:id/admin': 'admin',
  'POST /admin/users/:id/roles': 'admin',
  'POST /admin/users/:id/roles/revoke': 'admin',
  'GET /admin/tokens': 'admin',
  'GET /admin/tokens/:id/revoke': 'admin',
  'POST /admin/tokens/:id/revoke': 'admin',
  'GET /admin/audit': 'admin',
  'GET /admin/suppressions': 'admin',
  'GET /admin/queues': 'admin',
  'GET /admin/queues/:name': 'admin',
  'GET /widget.js': 'public',
  'GET /widget/demo': 'public',
};

// ---------------------------------------------------------------------------------------------------------------
// The world the requests act on.

type ObjectKind = 'public' | 'B' | 'A';

let ctx: TestContext;
let app: FastifyInstance;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
let doc: any;
const users = {} as Record<UserName, TestUser>;
const tokens = {} as Record<UserName, string>;
const channels = {} as Record<ObjectKind, TestChannel>;
const announcements = {} as Record<ObjectKind, string>;
let stranger: TestUser;
let liveUrl: string;
const ORGANISATION_CODE = 'Matrix';

function unique(): string {
  return randomBytes(4).toString('hex');
}

/** A channel like the named object, made for one request that changes or deletes it. */
async function freshChannel(kind: ObjectKind): Promise<TestChannel> {
  const db = ctx.deps.db;
  const visibility = kind === 'public' ? 'public' : kind === 'B' ? 'internal' : 'restricted';
  const channel = await createChannel(db, { slug: `m-${kind.toLowerCase()}-${unique()}`, visibility });
  if (kind === 'A') await grantRole(db, channel.id, users.ownerA.id, 'owner');
  if (kind === 'B') await grantRole(db, channel.id, users.publisherB.id, 'publisher');
  return channel;
}

/** A personal feed token of the user, made directly (the secret is never needed here). */
async function freshFeedTokenId(userId: string): Promise<string> {
  const row = await ctx.deps.db.feedToken.create({
    data: { userId, tokenHash: randomBytes(32).toString('hex'), prefix: 'mkf_matrix' },
  });
  return row.id;
}

/** What a browser's PushSubscription.toJSON() gives: an endpoint at an accepted push service and fresh keys. */
function freshBrowserPushSubscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/${unique()}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

async function freshPushSubscriptionId(userId: string): Promise<string> {
  const browser = freshBrowserPushSubscription();
  const row = await ctx.deps.db.pushSubscription.create({
    data: {
      id: randomUUID(),
      userId,
      endpoint: browser.endpoint,
      p256dh: browser.keys.p256dh,
      auth: browser.keys.auth,
    },
  });
  return row.id;
}

async function freshTokenId(userId: string): Promise<string> {
  return (await createApiToken(ctx.deps.db, { userId, name: `matrix ${unique()}` })).id;
}

/** The user an actor acts as; anonymous acts as nobody, but objects "of its own" are made for the UiB member. */
const userOf = (actor: ActorName): TestUser => users[actor === 'anonymous' ? 'uib' : actor];

function parseRoleObject(object: string): { kind: ObjectKind; role: ChannelRoleKind } {
  const [kind, role] = object.split(':') as [ObjectKind, ChannelRoleKind];
  return { kind, role };
}

// ---------------------------------------------------------------------------------------------------------------
// One valid request per operation and object. `missingUrl`: the same request naming an object that does not exist.

interface Built {
  url: string;
  payload?: Record<string, unknown> | string;
  headers?: Record<string, string>;
  missingUrl?: string;
  /** For the live endpoints: the channel to subscribe to, and one that does not exist; and over which transport. */
  live?: { slug: string; missingSlug: string; transport?: 'sse' };
}

type Builder = (actor: ActorName, object: string) => Promise<Built>;

const NO_SUCH_CHANNEL = 'no-such-channel';

const REQUESTS: Record<string, Builder> = {
  'get /healthz': async () => ({ url: '/healthz' }),
  'get /readyz': async () => ({ url: '/readyz' }),
  'get /unsubscribe': async () => ({ url: await unsubscribeUrl() }),
  'post /unsubscribe': async () => ({
    url: await unsubscribeUrl(),
    payload: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }),
  'get /subscriptions/confirm': async () => ({ url: await confirmationUrl() }),
  'post /subscriptions/confirm': async () => ({
    url: await confirmationUrl(),
    payload: 'confirm=yes',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }),
  'post /api/v1/channels/{slug}/email-subscriptions': async (_actor, object) => ({
    ...channelUrl(channels[object as ObjectKind].slug, '/email-subscriptions'),
    payload: { email: `matrix-${unique()}@example.org` },
  }),
  'post /api/v1/channels/{slug}/email-subscriptions/import': async (_actor, object) => ({
    ...channelUrl(channels[object as ObjectKind].slug, '/email-subscriptions/import'),
    payload: { addresses: [`matrix-${unique()}@example.org`] },
  }),
  'get /api/v1/admin/suppressions': async () => {
    const email = `matrix-${unique()}@example.org`;
    await suppressAddress(ctx.deps.db, { email, reason: 'bounce', detail: '550', deliveryId: null });
    return { url: `/api/v1/admin/suppressions?email=${encodeURIComponent(email)}` };
  },
  'get /api/v1/live': async (_actor, object) => ({
    url: '/api/v1/live',
    live: { slug: channels[object as ObjectKind].slug, missingSlug: NO_SUCH_CHANNEL },
  }),
  'get /api/v1/live/sse': async (_actor, object) => ({
    url: '/api/v1/live/sse',
    live: { slug: channels[object as ObjectKind].slug, missingSlug: NO_SUCH_CHANNEL, transport: 'sse' },
  }),
  'post /api/v1/channels': async () => ({
    url: '/api/v1/channels',
    payload: { slug: `m-new-${unique()}`, title: 'Ny kanal' },
  }),
  'get /api/v1/channels': async () => ({ url: '/api/v1/channels' }),
  'get /api/v1/directory': async () => ({ url: '/api/v1/directory' }),
  'get /api/v1/search': async () => ({ url: '/api/v1/search?q=matrix' }),
  'get /api/v1/channels/{slug}': async (_actor, object) => channelUrl(channels[object as ObjectKind].slug),
  'patch /api/v1/channels/{slug}': async (_actor, object) => ({
    ...channelUrl((await freshChannel(object as ObjectKind)).slug),
    payload: { title: 'Nytt navn' },
  }),
  'delete /api/v1/channels/{slug}': async (_actor, object) =>
    channelUrl((await freshChannel(object as ObjectKind)).slug),
  'get /api/v1/channels/{slug}/roles': async (_actor, object) =>
    channelUrl(channels[object as ObjectKind].slug, '/roles'),
  'put /api/v1/channels/{slug}/roles/{userId}': async (_actor, object) => {
    const { kind, role } = parseRoleObject(object);
    const target = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    return { ...channelUrl((await freshChannel(kind)).slug, `/roles/${target.id}`), payload: { role } };
  },
  'delete /api/v1/channels/{slug}/roles/{userId}': async (_actor, object) => {
    const { kind, role } = parseRoleObject(object);
    const target = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    const channel = await freshChannel(kind);
    await grantRole(ctx.deps.db, channel.id, target.id, role);
    return channelUrl(channel.slug, `/roles/${target.id}`);
  },
  'post /api/v1/channels/{slug}/announcements': async (_actor, object) => ({
    ...channelUrl(channels[object as ObjectKind].slug, '/announcements'),
    payload: { title: 'Melding', body: 'Tekst' },
  }),
  'get /api/v1/channels/{slug}/announcements': async (_actor, object) =>
    channelUrl(channels[object as ObjectKind].slug, '/announcements'),
  // A fresh announcement per request: retracting the shared one would hide it from the rows that read it.
  'post /api/v1/announcements/{id}/retract': async (_actor, object) => {
    const announcement = await ctx.deps.db.announcement.create({
      data: { channelId: channels[object as ObjectKind].id, title: 'Trekkes', body: 'Tekst', publishedAt: new Date() },
    });
    return {
      url: `/api/v1/announcements/${announcement.id}/retract`,
      missingUrl: `/api/v1/announcements/${randomUUID()}/retract`,
    };
  },
  // Pins are per announcement; the channel's limit of 10 pinned is never reached here, as every successful pin of the
  // shared announcement re-pins the same one.
  'put /api/v1/announcements/{id}/pin': async (_actor, object) => ({
    ...announcementUrl(object, '/api/v1/announcements/', '/pin'),
    payload: {},
  }),
  'delete /api/v1/announcements/{id}/pin': async (_actor, object) =>
    announcementUrl(object, '/api/v1/announcements/', '/pin'),
  'post /api/v1/announcements/{id}/attachments': async (_actor, object) => ({
    url: `/api/v1/announcements/${announcements[object as ObjectKind]}/attachments?filename=vedlegg.txt`,
    missingUrl: `/api/v1/announcements/${randomUUID()}/attachments?filename=vedlegg.txt`,
    payload: 'Vedlegg til kunngjøringen\n',
    headers: { 'content-type': 'text/plain' },
  }),
  'get /api/v1/announcements/{id}/attachments': async (_actor, object) =>
    announcementUrl(object, '/api/v1/announcements/', '/attachments'),
  'get /api/v1/attachments/{id}/{filename}': async (_actor, object) => {
    // One attachment per object, shared by the cells (they run concurrently: remember the promise).
    attachmentsToRead[object as ObjectKind] ??= freshAttachmentId(object as ObjectKind);
    return {
      url: `/api/v1/attachments/${await attachmentsToRead[object as ObjectKind]}/vedlegg.txt`,
      missingUrl: `/api/v1/attachments/${randomUUID()}/vedlegg.txt`,
    };
  },
  // A fresh attachment per request: removing it is for good.
  'delete /api/v1/attachments/{id}': async (_actor, object) => ({
    url: `/api/v1/attachments/${await freshAttachmentId(object as ObjectKind)}`,
    missingUrl: `/api/v1/attachments/${randomUUID()}`,
  }),
  'get /api/v1/channels/{slug}/drafts': async (_actor, object) =>
    channelUrl(channels[object as ObjectKind].slug, '/drafts'),
  // A fresh draft (or scheduled one) per request: publishing it changes its state for good.
  'post /api/v1/announcements/{id}/publish': async (_actor, object) => {
    const draft = await ctx.deps.db.announcement.create({
      data: { channelId: channels[object as ObjectKind].id, title: 'Utkast', body: 'Tekst', status: 'draft' },
    });
    return {
      url: `/api/v1/announcements/${draft.id}/publish`,
      missingUrl: `/api/v1/announcements/${randomUUID()}/publish`,
      payload: {},
    };
  },
  'post /api/v1/announcements/{id}/unschedule': async (_actor, object) => {
    const scheduled = await ctx.deps.db.announcement.create({
      data: {
        channelId: channels[object as ObjectKind].id,
        title: 'Planlagt',
        body: 'Tekst',
        status: 'scheduled',
        publishAt: new Date(Date.now() + 3_600_000),
      },
    });
    return {
      url: `/api/v1/announcements/${scheduled.id}/unschedule`,
      missingUrl: `/api/v1/announcements/${randomUUID()}/unschedule`,
    };
  },
  'patch /api/v1/announcements/{id}': async (_actor, object) => ({
    ...announcementUrl(object, '/api/v1/announcements/'),
    payload: { body: 'Rettet tekst', material: false },
  }),
  'get /api/v1/announcements/{id}/revisions': async (_actor, object) =>
    announcementUrl(object, '/api/v1/announcements/', '/revisions'),
  'get /api/v1/announcements/{id}': async (_actor, object) => ({
    url: `/api/v1/announcements/${announcements[object as ObjectKind]}`,
    missingUrl: `/api/v1/announcements/${randomUUID()}`,
  }),
  'get /api/v1/announcements/{id}/calendar.ics': async (_actor, object) => {
    const maintenance = await ctx.deps.db.announcement.create({
      data: {
        channelId: channels[object as ObjectKind].id,
        title: 'Planlagt vedlikehold',
        body: 'Nede i kveld',
        type: 'maintenance',
        affectedSystem: 'BOTT ØL',
        startsAt: new Date(Date.now() + 3_600_000),
        endsAt: new Date(Date.now() + 7_200_000),
        publishedAt: new Date(),
      },
    });
    return {
      url: `/api/v1/announcements/${maintenance.id}/calendar.ics`,
      missingUrl: `/api/v1/announcements/${randomUUID()}/calendar.ics`,
    };
  },
  'get /api/v1/me/subscriptions': async () => ({ url: '/api/v1/me/subscriptions' }),
  'put /api/v1/me/subscriptions/{slug}': async (_actor, object) => ({
    url: `/api/v1/me/subscriptions/${channels[object as ObjectKind].slug}`,
    missingUrl: `/api/v1/me/subscriptions/${NO_SUCH_CHANNEL}`,
    payload: {},
  }),
  'delete /api/v1/me/subscriptions/{slug}': async (actor, object) => {
    if (object === 'subscribed' && actor !== 'anonymous') {
      await ctx.deps.db.subscription.upsert({
        where: { channelId_userId: { channelId: channels.public.id, userId: users[actor].id } },
        create: { channelId: channels.public.id, userId: users[actor].id, confirmedAt: new Date() },
        update: {},
      });
    }
    // "Not subscribed": a fresh channel like A, which nobody has subscribed to yet.
    const slug = object === 'subscribed' ? channels.public.slug : (await freshChannel('A')).slug;
    return {
      url: `/api/v1/me/subscriptions/${slug}`,
      missingUrl: `/api/v1/me/subscriptions/${NO_SUCH_CHANNEL}`,
    };
  },
  'get /api/v1/push/public-key': async () => ({ url: '/api/v1/push/public-key' }),
  'get /api/v1/me/push-subscriptions': async () => ({ url: '/api/v1/me/push-subscriptions' }),
  'post /api/v1/me/push-subscriptions': async () => ({
    url: '/api/v1/me/push-subscriptions',
    payload: freshBrowserPushSubscription(),
  }),
  'delete /api/v1/me/push-subscriptions/{id}': async (actor, object) => {
    const id = await freshPushSubscriptionId(object === 'own' ? userOf(actor).id : stranger.id);
    return { url: `/api/v1/me/push-subscriptions/${id}`, missingUrl: `/api/v1/me/push-subscriptions/${randomUUID()}` };
  },
  'get /api/v1/me/tokens': async () => ({ url: '/api/v1/me/tokens' }),
  'post /api/v1/me/tokens': async () => ({ url: '/api/v1/me/tokens', payload: { name: 'matrix', scopes: ['read'] } }),
  'delete /api/v1/me/tokens/{id}': async (actor, object) => ({
    url: `/api/v1/me/tokens/${await freshTokenId(object === 'own' ? userOf(actor).id : stranger.id)}`,
    missingUrl: `/api/v1/me/tokens/${randomUUID()}`,
  }),
  'delete /api/v1/tokens/{id}': async (actor, object) => ({
    url: `/api/v1/tokens/${await freshTokenId(object === 'own' ? userOf(actor).id : stranger.id)}`,
    missingUrl: `/api/v1/tokens/${randomUUID()}`,
  }),
  'get /api/v1/me/feed-tokens': async () => ({ url: '/api/v1/me/feed-tokens' }),
  'post /api/v1/me/feed-tokens': async () => ({ url: '/api/v1/me/feed-tokens' }),
  'delete /api/v1/me/feed-tokens/{id}': async (actor, object) => ({
    url: `/api/v1/me/feed-tokens/${await freshFeedTokenId(object === 'own' ? userOf(actor).id : stranger.id)}`,
    missingUrl: `/api/v1/me/feed-tokens/${randomUUID()}`,
  }),
  'get /api/v1/organisations': async () => ({ url: '/api/v1/organisations' }),
  'post /api/v1/organisations': async () => {
    const id = unique();
    return { url: '/api/v1/organisations', payload: { code: `M${id}`, name: `Org ${id}`, realm: `m${id}.example.no` } };
  },
  'patch /api/v1/organisations/{code}': async () => ({
    url: `/api/v1/organisations/${ORGANISATION_CODE}`,
    missingUrl: '/api/v1/organisations/NoSuchOrganisation',
    payload: { name: `Matrix ${unique()}` },
  }),
  'get /api/v1/me': async () => ({ url: '/api/v1/me' }),
  'get /api/v1/me/export': async () => ({ url: '/api/v1/me/export' }),
  // Only a session erases an account: every token is refused (a regression here would erase the actors).
  'delete /api/v1/me': async () => ({ url: '/api/v1/me', payload: { confirm: 'DELETE' } }),
  'post /api/v1/live/tickets': async () => ({ url: '/api/v1/live/tickets' }),
  'get /api/v1/admin/audit': async () => ({ url: '/api/v1/admin/audit' }),
  'get /api/v1/admin/queues': async () => ({ url: '/api/v1/admin/queues' }),
  'get /api/v1/admin/queues/{name}/failed': async () => ({ url: '/api/v1/admin/queues/email/failed' }),
  'get /api/v1/announcements/{id}/deliveries': async (_actor, object) =>
    announcementUrl(object, '/api/v1/announcements/', '/deliveries'),
  'post /api/v1/announcements/{id}/deliveries/retry': async (_actor, object) =>
    announcementUrl(object, '/api/v1/announcements/', '/deliveries/retry'),
  'get /api/v1/me/feed': async () => ({ url: '/api/v1/me/feed' }),
  'get /api/v1/me/unread': async () => ({ url: '/api/v1/me/unread' }),
  'put /api/v1/me/reads/{id}': async (_actor, object) => announcementUrl(object, '/api/v1/me/reads/'),
  'delete /api/v1/me/reads/{id}': async (_actor, object) => announcementUrl(object, '/api/v1/me/reads/'),
  // The channel is named in the body, which a missing-object request cannot change here: tests/http/reading.test.ts
  // compares the denial with the answer for a channel that does not exist.
  'post /api/v1/me/reads': async (_actor, object) => ({
    url: '/api/v1/me/reads',
    payload: object === 'all' ? {} : { channel: channels[object as ObjectKind].slug },
    missingUrl: '/api/v1/me/reads',
  }),
  'put /api/v1/announcements/{id}/rating': async (_actor, object) => ({
    ...announcementUrl(object, '/api/v1/announcements/', '/rating'),
    payload: { stars: 4 },
  }),
  // A vote of the actor's own is there to withdraw (made directly, also where the actor may no longer read).
  'delete /api/v1/announcements/{id}/rating': async (actor, object) => {
    const announcementId = announcements[object as ObjectKind];
    const userId = userOf(actor).id;
    // ON CONFLICT: cells run concurrently, and anonymous acts on the UiB member's objects.
    await ctx.deps.db.$executeRaw`
      INSERT INTO "AnnouncementRating" ("userId", "announcementId", stars, "updatedAt")
      VALUES (${userId}::uuid, ${announcementId}::uuid, 3, now()) ON CONFLICT DO NOTHING`;
    return announcementUrl(object, '/api/v1/announcements/', '/rating');
  },
  // A public IP literal passes registration without DNS or a connection.
  'post /api/v1/channels/{slug}/webhooks': async (_actor, object) => ({
    ...channelUrl(channels[object as ObjectKind].slug, '/webhooks'),
    payload: { url: 'https://93.184.215.14/matrix-hook' },
  }),
  'get /api/v1/channels/{slug}/webhooks': async (_actor, object) =>
    channelUrl(channels[object as ObjectKind].slug, '/webhooks'),
  'get /api/v1/webhooks/{id}': async (_actor, object) => webhookUrl(object),
  'patch /api/v1/webhooks/{id}': async (_actor, object) => ({
    ...(await webhookUrl(object)),
    payload: { description: 'Endret' },
  }),
  'delete /api/v1/webhooks/{id}': async (_actor, object) => webhookUrl(object),
  'post /api/v1/webhooks/{id}/rotate-secret': async (_actor, object) => webhookUrl(object, '/rotate-secret'),
  // The webhook points at a documentation address: the test send is refused at once (200 with ok: false).
  'post /api/v1/webhooks/{id}/test': async (_actor, object) => webhookUrl(object, '/test'),
  // An announcement that asks for acknowledgement, fresh per request (acknowledging is idempotent, but cells run
  // concurrently and the shared announcements do not ask for it).
  'post /api/v1/announcements/{id}/acknowledgement': async (_actor, object) => {
    const announcement = await ctx.deps.db.announcement.create({
      data: {
        channelId: channels[object as ObjectKind].id,
        title: 'Bekreft',
        body: 'Tekst',
        publishedAt: new Date(),
        ackRequired: true,
      },
    });
    return {
      url: `/api/v1/announcements/${announcement.id}/acknowledgement`,
      missingUrl: `/api/v1/announcements/${randomUUID()}/acknowledgement`,
    };
  },
  'get /api/v1/announcements/{id}/acknowledgements': async (_actor, object) =>
    announcementUrl(object, '/api/v1/announcements/', '/acknowledgements'),
};

/** A fresh webhook on the object's channel (made directly), and the same URL naming one that does not exist. */
async function webhookUrl(object: string, rest = ''): Promise<Built> {
  const webhook = await ctx.deps.db.webhook.create({
    data: {
      id: randomUUID(),
      channelId: channels[object as ObjectKind].id,
      url: 'http://192.0.2.10/matrix-hook',
      secret: `whsec_${randomBytes(32).toString('base64')}`,
    },
  });
  return { url: `/api/v1/webhooks/${webhook.id}${rest}`, missingUrl: `/api/v1/webhooks/${randomUUID()}${rest}` };
}

const attachmentsToRead: Partial<Record<ObjectKind, Promise<string>>> = {};

/** An attachment of the object's announcement, made directly (bytes in PostgreSQL). */
async function freshAttachmentId(kind: ObjectKind): Promise<string> {
  const row = await ctx.deps.db.attachment.create({
    data: {
      id: randomUUID(),
      announcementId: announcements[kind],
      filename: 'vedlegg.txt',
      contentType: 'text/plain',
      size: 3,
      sha256: 'f9d1af62d004d4da648929bc7dde552685979d6e6a78dc8f9b64eb08e9c4ccb7',
      storage: 'database',
      data: Buffer.from('hei'),
    },
  });
  return row.id;
}

function announcementUrl(object: string, prefix: string, rest = ''): Built {
  return {
    url: `${prefix}${announcements[object as ObjectKind]}${rest}`,
    missingUrl: `${prefix}${randomUUID()}${rest}`,
  };
}

function channelUrl(slug: string, rest = ''): Built {
  return { url: `/api/v1/channels/${slug}${rest}`, missingUrl: `/api/v1/channels/${NO_SUCH_CHANNEL}${rest}` };
}

/** A confirmation link of an unconfirmed subscription without an account to the public channel. */
async function confirmationUrl(): Promise<string> {
  const email = `matrix-${unique()}@example.org`;
  const row = await ctx.deps.db.subscription.create({ data: { channelId: channels.public.id, email, source: 'self' } });
  const token = signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, address: email });
  return `/subscriptions/confirm?token=${encodeURIComponent(token)}`;
}

async function unsubscribeUrl(): Promise<string> {
  const subscription = await createSubscription(ctx.deps.db, { channelId: channels.public.id });
  const token = signUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, {
    subscriptionId: subscription.id,
    recipient: `email:${subscription.email}`,
  });
  return `/unsubscribe?token=${encodeURIComponent(token)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Sending and classifying.

interface Answer {
  status: number;
  /** For comparing a denial with the answer for a missing object: error code and message, or the live denial. */
  detail: string;
}

function credentials(actor: ActorName): Record<string, string> {
  return actor === 'anonymous' ? {} : { authorization: `Bearer ${tokens[actor]}` };
}

async function send(method: string, actor: ActorName, url: string, built: Built): Promise<Answer> {
  const response = await app.inject({
    method: method.toUpperCase() as 'GET',
    url,
    headers: { ...credentials(actor), ...built.headers },
    ...(built.payload !== undefined ? { payload: built.payload } : {}),
  });
  let detail = '';
  if (response.statusCode >= 400) {
    const body = response.json() as { error?: { code: string; message: string } };
    detail = `${body.error?.code}: ${body.error?.message}`;
  }
  return { status: response.statusCode, detail };
}

/** Opens an event stream for one channel as the actor: 200 when granted, 404 when denied (its first frame says). */
async function subscribeSse(actor: ActorName, slug: string): Promise<Answer> {
  const controller = new AbortController();
  const response = await fetch(`${liveUrl.replace('ws', 'http')}/sse?channels=${slug}`, {
    headers: credentials(actor),
    signal: controller.signal,
  });
  try {
    if (response.status !== 200) return { status: response.status, detail: await response.text() };
    const reader = response.body!.getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended before its first frame');
      text += new TextDecoder().decode(value);
      const data = /^data: (.*)$/m.exec(text);
      if (!data) continue;
      const frame = JSON.parse(data[1]!) as { type: string; channels: string[]; denied: string[] };
      if (frame.type !== 'subscribed') throw new Error(`first frame ${frame.type}`);
      if (frame.channels.includes(slug)) return { status: 200, detail: '' };
      return { status: 404, detail: JSON.stringify({ channels: frame.channels, denied: frame.denied.length }) };
    }
  } finally {
    controller.abort();
  }
}

/** Opens a live socket as the actor and subscribes to one channel: 200 when granted, 404 when denied. */
async function subscribeLive(actor: ActorName, slug: string, transport?: 'sse'): Promise<Answer> {
  if (transport === 'sse') return subscribeSse(actor, slug);
  const options = { headers: credentials(actor) };
  let client: LiveClient;
  try {
    client = await LiveClient.connect(liveUrl, options);
  } catch {
    const refused = await LiveClient.refused(liveUrl, options);
    return { status: refused.status, detail: refused.body };
  }
  try {
    client.send({ type: 'subscribe', channels: [slug] });
    const frame = await client.frame((f) => f.type === 'subscribed', 'a subscribed frame');
    if (frame.channels.includes(slug)) return { status: 200, detail: '' };
    return { status: 404, detail: JSON.stringify({ channels: frame.channels, denied: frame.denied.length }) };
  } finally {
    client.close();
  }
}

const OUTCOME_OF_STATUS: Record<number, string> = { 401: 'U', 403: 'F', 404: 'H' };

function outcomeOf(status: number): string {
  return status >= 200 && status < 300 ? 'Y' : (OUTCOME_OF_STATUS[status] ?? `?${status}`);
}

/** Sends one cell's request; returns a problem description, or null when the answer is the expected one. */
async function checkCell(
  operation: string,
  object: string,
  actor: ActorName,
  expected: string,
): Promise<string | null> {
  const [method = '', path = ''] = operation.split(' ');
  const built = await REQUESTS[operation]!(actor, object);
  const answer = built.live
    ? await subscribeLive(actor, built.live.slug, built.live.transport)
    : await send(method, actor, built.url, built);
  const actual = outcomeOf(answer.status);
  const where = `${operation} [${object}] as ${actor}`;
  if (actual !== expected) return `${where}: expected ${expected}, got ${answer.status} ${answer.detail}`;
  if (actual !== 'H') return null;
  // A denial that says "not found" must be indistinguishable from a real absence.
  if (!built.missingUrl && !built.live) return `${where}: 404, but no missing-object request to compare with (${path})`;
  const missing = built.live
    ? await subscribeLive(actor, built.live.missingSlug, built.live.transport)
    : await send(method, actor, built.missingUrl!, built);
  if (missing.status !== answer.status || missing.detail !== answer.detail) {
    return `${where}: denied as ${answer.status} ${answer.detail}, but a missing object answers ${missing.status} ${missing.detail}`;
  }
  return null;
}

function vapidSettings(): Record<string, string> {
  const keys = generateVapidKeys();
  return {
    VAPID_PUBLIC_KEY: keys.publicKey,
    VAPID_PRIVATE_KEY: keys.privateKey,
    VAPID_SUBJECT: 'mailto:drift@example.no',
  };
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  ctx = await createTestContext({
    // Hundreds of requests from one address in a few seconds: not what the limits are being tested for here.
    RATE_LIMIT_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_SENSITIVE_PER_MINUTE: '1000000',
    WS_MAX_CONNECTIONS_PER_IP: '1000',
    DATABASE_POOL_SIZE: '10',
    // Web push on, so GET /push/public-key answers (without keys it is 404 push_disabled for everyone).
    ...vapidSettings(),
  });
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  users.admin = await createUser(db, { isAdmin: true });
  users.ownerA = await createUser(db, { organisationCode: 'UiO' });
  users.publisherB = await createUser(db, { organisationCode: 'UiT' });
  users.uib = await createUser(db, { organisationCode: 'UiB' });
  users.ntnu = await createUser(db, { organisationCode: 'NTNU' });
  users.outsider = await createUser(db);
  stranger = await createUser(db, { organisationCode: 'UiB' });
  for (const name of ACTORS) if (name !== 'anonymous') tokens[name] = await tokenFor(db, users[name].id);
  for (const kind of ['public', 'B', 'A'] as const) {
    channels[kind] = await freshChannel(kind);
    const announcement = await db.announcement.create({
      data: { channelId: channels[kind].id, title: 'Kunngjøring', body: 'Tekst', publishedAt: new Date() },
    });
    announcements[kind] = announcement.id;
  }
  await db.organisation.create({ data: { code: ORGANISATION_CODE, name: 'Matrix', realm: 'matrix.example.no' } });
  // The live endpoint is tested over a real socket, as clients use it.
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  liveUrl = `${address.replace('http', 'ws')}/api/v1/live`;
  const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  doc = response.json();
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

/** Every operation of the document, as `method path`. */
function documentedOperations(): string[] {
  return Object.entries(doc.paths as Record<string, object>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method))
      .map((method) => `${method} ${path}`),
  );
}

/** Every registered route as its operation (`get /api/v1/channels/{slug}`), with its policy; HEAD routes left out. */
function registeredOperations(): Map<string, string> {
  const operations = new Map<string, string>();
  for (const { method, url, policy } of app.routePolicies) {
    if (method === 'HEAD') continue;
    operations.set(`${method.toLowerCase()} ${url.replace(/:(\w+)/g, '{$1}')}`, policyLabel(policy));
  }
  return operations;
}

describe('the authorisation matrix', () => {
  it('has one row for every operation in the OpenAPI document, and every row is a route of the app', () => {
    const rows = EXPECTED.map(([operation]) => operation);
    expect(new Set(rows).size, 'no operation listed twice').toBe(rows.length);
    expect(
      documentedOperations().filter((op) => !rows.includes(op)),
      'operations without a row in EXPECTED',
    ).toEqual([]);
    const registered = registeredOperations();
    expect(
      rows.filter((op) => !registered.has(op)),
      'rows without a route',
    ).toEqual([]);
    for (const [operation, , outcomes] of EXPECTED) {
      expect(REQUESTS[operation], `a request builder for ${operation}`).toBeTypeOf('function');
      for (const [object, cells] of Object.entries(outcomes)) {
        expect(cells, `${operation} [${object}]`).toMatch(new RegExp(`^[YUFH]{${ACTORS.length}}$`));
      }
    }
  });

  it('finds in each row the policy the route declares, as registered and as published (x-policy)', () => {
    const registered = registeredOperations();
    for (const [operation, policy] of EXPECTED) {
      expect(registered.get(operation), operation).toBe(policy);
      const [method = '', path = ''] = operation.split(' ');
      const item = doc.paths[path]?.[method];
      if (item) expect(item['x-policy'] && policyLabel(item['x-policy'] as RoutePolicy), operation).toBe(policy);
    }
  });

  it('knows every other route: each registered route is a row or listed in HIDDEN_ROUTES, with its policy', () => {
    const rows = new Set(EXPECTED.map(([operation]) => operation));
    const problems: string[] = [];
    for (const { method, url, policy } of app.routePolicies) {
      // Fastify adds a HEAD route for each GET route, with the same options.
      const asGet = method === 'HEAD' ? 'GET' : method;
      if (rows.has(`${asGet.toLowerCase()} ${url.replace(/:(\w+)/g, '{$1}')}`)) continue;
      const expected = HIDDEN_ROUTES[`${asGet} ${url}`];
      if (expected !== policyLabel(policy)) {
        problems.push(`${method} ${url}: policy ${policyLabel(policy)}, HIDDEN_ROUTES says ${expected ?? 'nothing'}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers every operation × actor × object as the table says', async () => {
    const problems: string[] = [];
    let cells = 0;
    for (const [operation, , outcomes] of EXPECTED) {
      const checks: Promise<string | null>[] = [];
      for (const [object, row] of Object.entries(outcomes)) {
        ACTORS.forEach((actor, column) => {
          checks.push(checkCell(operation, object, actor, row[column]!));
        });
      }
      cells += checks.length;
      problems.push(...(await Promise.all(checks)).filter((problem) => problem !== null));
    }
    expect(problems).toEqual([]);
    expect(cells).toBeGreaterThan(200);
  }, 120_000);

  it('lists to each actor exactly the channels it may read (GET /channels agrees with GET /channels/{slug})', async () => {
    const row = EXPECTED.find(([operation]) => operation === 'get /api/v1/channels/{slug}')![2];
    for (const [column, actor] of ACTORS.entries()) {
      // Walk every page: the matrix creates more channels than one page holds.
      const listed = new Set<string>();
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `limit=100&cursor=${encodeURIComponent(cursor)}` : 'limit=100';
        const response = await app.inject({
          method: 'GET',
          url: `/api/v1/channels?${query}`,
          headers: credentials(actor),
        });
        expect(response.statusCode).toBe(200);
        const page = response.json() as { items: { slug: string }[]; nextCursor: string | null };
        for (const channel of page.items) listed.add(channel.slug);
        cursor = page.nextCursor;
      } while (cursor);
      for (const kind of ['public', 'B', 'A'] as const) {
        expect(listed.has(channels[kind].slug), `${actor} lists ${kind}`).toBe(row[kind]![column] === 'Y');
      }
    }
  });
});

describe('a session', () => {
  it('acts as its user, like that user’s token (smoke test through the session cookie)', async () => {
    const db = ctx.deps.db;
    const started = await startSession(db, { userId: users.uib.id }, ctx.config.session);
    const { csrfSecret } = await db.session.findUniqueOrThrow({ where: { id: started.sessionId } });
    const origin = new URL(ctx.config.http.publicUrl).origin;
    const headers = {
      cookie: `${SESSION_COOKIE}=${started.secret}`,
      'x-csrf-token': csrfTokenFor(csrfSecret),
      origin,
      'sec-fetch-site': 'same-origin',
    };
    const get = (url: string) => app.inject({ method: 'GET', url, headers });

    expect((await get(`/api/v1/channels/${channels.B.slug}`)).statusCode).toBe(200);
    const hidden = await get(`/api/v1/channels/${channels.A.slug}`);
    const missing = await get(`/api/v1/channels/${NO_SUCH_CHANNEL}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual(missing.json().error);
    expect((await get('/api/v1/me/tokens')).statusCode).toBe(200);
    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${channels.B.slug}`,
      headers,
      payload: { title: 'Nei' },
    });
    expect(patch.statusCode).toBe(403);
    // The one difference from a token: a session may create tokens (the UiB member's token may not, see the table).
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/me/tokens',
      headers,
      payload: { name: 'fra nettleseren' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().scopes).toEqual(['read', 'publish']);
  });
});
