/**
 * `/unsubscribe?token=…` through the real app: GET shows a page and changes nothing, POST (RFC 8058 one-click or the
 * page's form) turns e-mail off idempotently, and a token that is not valid gets a 400 page that reveals nothing.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

async function subscriber(options: { language?: 'nb' | 'nn' | 'en'; user?: boolean } = {}) {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: 'BOTT <Økonomi>' });
  const user = options.user ? await createUser(db) : undefined;
  const subscription = await createSubscription(db, {
    channelId: channel.id,
    userId: user?.id,
    language: options.language ?? 'nb',
  });
  const recipient = user ? `user:${user.id}` : `email:${subscription.email}`;
  const token = signUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: subscription.id, recipient });
  return { subscription, token, url: `/unsubscribe?token=${encodeURIComponent(token)}` };
}

async function emailModeOf(id: bigint) {
  return (await ctx.deps.db.subscription.findUniqueOrThrow({ where: { id } })).emailMode;
}

const oneClick = {
  'content-type': 'application/x-www-form-urlencoded',
};

describe('GET /unsubscribe', () => {
  it('shows a page with a button that POSTs, and changes nothing', async () => {
    const { subscription, url } = await subscriber({ language: 'nn' });
    const response = await app.inject({ method: 'GET', url });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('<html lang="nn"');
    expect(response.body).toContain('<form method="post">');
    expect(response.body).toContain('BOTT &lt;Økonomi>');
    expect(response.body).toContain('Meld meg av');
    expect(await emailModeOf(subscription.id)).toBe('immediate');
  });
});

describe('POST /unsubscribe', () => {
  it('unsubscribes with the RFC 8058 one-click body, idempotently', async () => {
    const { subscription, url } = await subscriber({ language: 'en' });

    const first = await app.inject({ method: 'POST', url, headers: oneClick, payload: 'List-Unsubscribe=One-Click' });
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('<html lang="en"');
    expect(first.body).toContain('You are unsubscribed');
    expect(await emailModeOf(subscription.id)).toBe('off');

    const second = await app.inject({ method: 'POST', url, headers: oneClick, payload: 'List-Unsubscribe=One-Click' });
    expect(second.statusCode).toBe(200);
    expect(second.body).toContain('You are unsubscribed');
    expect(await emailModeOf(subscription.id)).toBe('off');

    // The link now shows the confirmation rather than the button.
    const page = await app.inject({ method: 'GET', url });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<form');
  });

  it('accepts the one-click POST as multipart/form-data and the page form for a user subscription', async () => {
    const emailSubscriber = await subscriber();
    const boundary = 'x-boundary';
    const multipart = await app.inject({
      method: 'POST',
      url: emailSubscriber.url,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    expect(multipart.statusCode).toBe(200);
    expect(await emailModeOf(emailSubscriber.subscription.id)).toBe('off');

    const userSubscriber = await subscriber({ user: true });
    const form = await app.inject({
      method: 'POST',
      url: userSubscriber.url,
      headers: oneClick,
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('Du er meldt av');
    expect(await emailModeOf(userSubscriber.subscription.id)).toBe('off');
  });

  it('refuses a tampered, foreign or missing token with a 400 page that reveals nothing', async () => {
    const { subscription, token } = await subscriber();
    const other = await subscriber();
    const mac = token.split('.')[1]!;
    // The first character carries 6 bits of the MAC; the last one carries 2 unused bits (another spelling of the same
    // MAC, refused as not canonical): both kinds of change are refused.
    const flipped = `${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The canonical last character has its 2 low bits zero; the next one in the alphabet decodes to the same MAC.
    const respelt = `${mac.slice(0, -1)}${alphabet[alphabet.indexOf(mac.at(-1)!) + 1]}`;
    expect(Buffer.from(respelt, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    const bad = [
      `${subscription.id}.${flipped}`,
      `${subscription.id}.${respelt}`,
      // Another subscriber's valid signature on this subscription id.
      `${subscription.id}.${other.token.split('.')[1]}`,
      // A valid-looking token for a subscription that does not exist.
      `999999999.${mac}`,
      'not-a-token',
    ];
    const bodies = new Set<string>();
    for (const candidate of bad) {
      for (const method of ['GET', 'POST'] as const) {
        const response = await app.inject({
          method,
          url: `/unsubscribe?token=${encodeURIComponent(candidate)}`,
          headers: { ...oneClick, 'accept-language': 'en;q=0.9, nn' },
          payload: method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined,
        });
        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toMatch(/^text\/html/);
        bodies.add(response.body);
      }
    }
    // One and the same page for every failure, in the language the browser prefers.
    expect(bodies.size).toBe(1);
    const [page] = [...bodies];
    expect(page).toContain('<html lang="nn"');
    expect(page).toContain('Lenkja verkar ikkje');

    const missing = await app.inject({ method: 'POST', url: '/unsubscribe', headers: oneClick, payload: '' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('Lenken virker ikke');
    expect(await emailModeOf(subscription.id)).toBe('immediate');
    expect(await emailModeOf(other.subscription.id)).toBe('immediate');
  });
});
