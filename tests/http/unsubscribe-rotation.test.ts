/**
 * Key rotation through the real app: after UNSUBSCRIBE_SECRET is replaced, unsubscribe and confirmation links signed
 * with the old key (now in UNSUBSCRIBE_PREVIOUS_SECRETS) keep working until UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL; after
 * it they get the same 400 page as any bad link. New links are signed with the new key.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { signConfirmationToken } from '../../src/mail/confirmation-token.js';
import { resolveUnsubscribeKey, signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription, uniqueAddress } from '../helpers/delivery.js';
import { createChannel } from '../helpers/factories.js';

const NEW_SECRET = 'rotated-unsubscribe-secret-0123456789abcdef';
const ANOTHER_OLD_SECRET = 'another-retired-secret-0123456789abcdef';
const form = { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' };

let ctx: TestContext;
/** In the grace period: the old key still verifies. */
let inGrace: FastifyInstance;
/** The same deployment after UNTIL. */
let pastGrace: FastifyInstance;

beforeAll(async () => {
  const rotation = {
    UNSUBSCRIBE_SECRET: NEW_SECRET,
    UNSUBSCRIBE_PREVIOUS_SECRETS: `${ANOTHER_OLD_SECRET},${TEST_UNSUBSCRIBE_SECRET}`,
  };
  ctx = await createTestContext({
    ...rotation,
    UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL: new Date(Date.now() + 90 * 24 * 3600_000).toISOString(),
  });
  inGrace = await buildApp(ctx.deps, { logger: false });
  const expired = loadConfig({
    ...ctx.env,
    UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL: new Date(Date.now() - 1000).toISOString(),
  });
  pastGrace = await buildApp({ ...ctx.deps, config: expired }, { logger: false });
});

afterAll(async () => {
  await inGrace?.close();
  await pastGrace?.close();
  await ctx?.close();
});

async function emailSubscriber() {
  const channel = await createChannel(ctx.deps.db, { title: 'Drift' });
  const subscription = await createSubscription(ctx.deps.db, { channelId: channel.id, language: 'en' });
  const recipient = `email:${subscription.email}`;
  const sign = (key: string) =>
    `/unsubscribe?token=${encodeURIComponent(signUnsubscribeToken(key, { subscriptionId: subscription.id, recipient }))}`;
  return { subscription, sign };
}

async function emailModeOf(id: bigint) {
  return (await ctx.deps.db.subscription.findUniqueOrThrow({ where: { id } })).emailMode;
}

const oneClick = (app: FastifyInstance, url: string) =>
  app.inject({ method: 'POST', url, headers: form, payload: 'List-Unsubscribe=One-Click' });

describe('unsubscribe links after a key rotation', () => {
  it('signs new links with the new key only', () => {
    expect(resolveUnsubscribeKey(ctx.config)).toBe(NEW_SECRET);
  });

  it('accepts a link of the old key during the grace period, and of the new key always', async () => {
    const old = await emailSubscriber();
    const page = await inGrace.inject({ method: 'GET', url: old.sign(TEST_UNSUBSCRIBE_SECRET), headers: form });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post">');
    expect((await oneClick(inGrace, old.sign(TEST_UNSUBSCRIBE_SECRET))).statusCode).toBe(200);
    expect(await emailModeOf(old.subscription.id)).toBe('off');

    const fresh = await emailSubscriber();
    expect((await oneClick(pastGrace, fresh.sign(NEW_SECRET))).statusCode).toBe(200);
    expect(await emailModeOf(fresh.subscription.id)).toBe('off');
  });

  it('refuses a link of the old key after UNTIL with the page every bad link gets', async () => {
    const { subscription, sign } = await emailSubscriber();
    const expired = await oneClick(pastGrace, sign(TEST_UNSUBSCRIBE_SECRET));
    const expiredGet = await pastGrace.inject({ method: 'GET', url: sign(TEST_UNSUBSCRIBE_SECRET), headers: form });
    const forged = await oneClick(pastGrace, sign('never-a-key-of-ours-0123456789abcdef'));
    const malformed = await oneClick(pastGrace, '/unsubscribe?token=garbage');
    for (const response of [expired, expiredGet, forged, malformed]) {
      expect(response.statusCode).toBe(400);
      expect(response.body).toBe(malformed.body);
    }
    expect(await emailModeOf(subscription.id)).toBe('immediate');
  });

  it('refuses, during the grace period, an old-key link made for another recipient or tampered with', async () => {
    const { subscription, sign } = await emailSubscriber();
    const other = await emailSubscriber();
    const foreignMac = other.sign(TEST_UNSUBSCRIBE_SECRET).split('.')[1]!;
    const foreign = await oneClick(inGrace, `/unsubscribe?token=${subscription.id}.${foreignMac}`);
    const url = sign(ANOTHER_OLD_SECRET);
    const tampered = await oneClick(inGrace, `${url.slice(0, -1)}${url.endsWith('A') ? 'B' : 'A'}`);
    const malformed = await oneClick(inGrace, '/unsubscribe?token=garbage');
    for (const response of [foreign, tampered]) {
      expect(response.statusCode).toBe(400);
      expect(response.body).toBe(malformed.body);
    }
    expect(await emailModeOf(subscription.id)).toBe('immediate');
  });
});

describe('confirmation links after a key rotation', () => {
  it('confirms with a link of the old key during the grace period only', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const rows = await Promise.all(
      [1, 2].map(async () => {
        const email = uniqueAddress('rotation');
        const row = await db.subscription.create({ data: { channelId: channel.id, email, source: 'self' } });
        const token = signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, address: email });
        return { row, url: `/subscriptions/confirm?token=${encodeURIComponent(token)}` };
      }),
    );
    const [early, late] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const confirm = (app: FastifyInstance, url: string) =>
      app.inject({ method: 'POST', url, headers: form, payload: 'confirm=yes' });

    expect((await confirm(inGrace, early.url)).statusCode).toBe(200);
    expect((await db.subscription.findUniqueOrThrow({ where: { id: early.row.id } })).confirmedAt).toBeInstanceOf(Date);

    const refused = await confirm(pastGrace, late.url);
    const malformed = await confirm(pastGrace, '/subscriptions/confirm?token=garbage');
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toBe(malformed.body);
    expect((await db.subscription.findUniqueOrThrow({ where: { id: late.row.id } })).confirmedAt).toBeNull();
  });
});
