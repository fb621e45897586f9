/**
 * Turning on web push on my subscriptions page, in Chromium (client/entries/push.ts): the page asks for permission,
 * registers the service worker /sw.js (scope /), subscribes with the server's VAPID key and registers the browser
 * with POST /api/v1/me/push-subscriptions (CSRF token included); a permission the browser refuses says so; without
 * JavaScript the page says it needs it.
 *
 * The one thing faked is the browser's push service: headless Chromium here has no network to reach FCM, so
 * `PushManager.prototype.subscribe` answers with a subscription of keys made by this test (a P-256 point and 16
 * bytes, as a browser's are) at an FCM endpoint address — everything from the page to the database is real.
 */
import { createECDH, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { generateVapidKeys } from '../../src/push/sender.js';
import { SESSION_COOKIE } from '../../src/services/sessions.js';
import { launchHeadlessBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription } from '../helpers/delivery.js';
import { createChannel, createUser, type TestUser } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';
import { browserSession } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let user: TestUser;

const VAPID = generateVapidKeys();

beforeAll(async () => {
  ctx = await createTestContext({
    VAPID_PUBLIC_KEY: VAPID.publicKey,
    VAPID_PRIVATE_KEY: VAPID.privateKey,
    VAPID_SUBJECT: 'mailto:drift@example.no',
  });
  user = await createUser(ctx.deps.db, { organisationCode: 'UiO' });
  const channel = await createChannel(ctx.deps.db, { title: 'BOTT Drift' });
  await createSubscription(ctx.deps.db, { channelId: channel.id, userId: user.id });
  app = await buildApp(ctx.deps, { logger: false });
  base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('127.0.0.1', 'localhost');
  browser = await launchHeadlessBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await ctx?.close();
});

async function signedInContext(options: { javaScriptEnabled?: boolean; permissions?: string[]; as?: TestUser } = {}) {
  const context = await browser.newContext({
    locale: 'nb-NO',
    ...(options.javaScriptEnabled === false ? { javaScriptEnabled: false } : {}),
  });
  if (options.permissions) await context.grantPermissions(options.permissions, { origin: base });
  const session = await browserSession(ctx.deps.db, (options.as ?? user).id);
  await context.addCookies([
    {
      name: SESSION_COOKIE,
      value: session.cookie.slice(SESSION_COOKIE.length + 1),
      url: base.replace('http:', 'https:'),
      secure: true,
      sameSite: 'Lax',
    },
  ]);
  return context;
}

const visibleState = (page: import('playwright-core').Page) =>
  page.locator('[data-push-state]:not([hidden])').getAttribute('data-push-state');

describe('turning on web push', () => {
  it('asks, registers /sw.js and the browser’s subscription, and says it is on', { timeout: 60_000 }, async () => {
    const context = await signedInContext({ permissions: ['notifications'] });
    const keys = {
      endpoint: `https://fcm.googleapis.com/fcm/send/${randomBytes(12).toString('base64url')}`,
      p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    };
    await context.addInitScript((fake) => {
      // The browser's push service, faked (see the file comment); it checks it was given the server's key.
      PushManager.prototype.subscribe = async (options?: PushSubscriptionOptionsInit) => {
        const key = options?.applicationServerKey;
        if (!(key instanceof Uint8Array) || key.length !== 65) throw new Error('not a P-256 application server key');
        (window as unknown as { subscribedWith: number }).subscribedWith = key.length;
        return {
          endpoint: fake.endpoint,
          toJSON: () => ({
            endpoint: fake.endpoint,
            expirationTime: null,
            keys: { p256dh: fake.p256dh, auth: fake.auth },
          }),
        } as unknown as PushSubscription;
      };
      PushManager.prototype.getSubscription = async () => null;
    }, keys);
    const page = await context.newPage();
    await page.goto(`${base}/me/subscriptions`);
    await waitFor(async () => (await visibleState(page)) === 'ask', { what: 'the "turn on" button' });
    await page.getByRole('button', { name: 'Slå på varsler' }).click();
    await waitFor(async () => (await visibleState(page)) === 'enabled', { what: 'push turned on' });
    expect(await page.evaluate('window.subscribedWith')).toBe(65);
    const registration = (await page.evaluate(
      'navigator.serviceWorker.getRegistration("/").then((r) => r && r.active && r.active.scriptURL)',
    )) as string | null;
    expect(registration).toBe(`${base}/sw.js`);
    const stored = await ctx.deps.db.pushSubscription.findMany({ where: { userId: user.id } });
    expect(stored.map((row) => row.endpoint)).toEqual([keys.endpoint]);
    await context.close();
  });

  it('says so when the browser refuses notifications, and without JavaScript that it needs it', async () => {
    const other = await createUser(ctx.deps.db);
    // Not granted: headless Chromium answers the permission request with "denied", as a person saying no would.
    const refused = await signedInContext({ as: other });
    const page = await refused.newPage();
    await page.goto(`${base}/me/subscriptions`);
    await waitFor(async () => (await visibleState(page)) === 'ask', { what: 'the "turn on" button' });
    await page.getByRole('button', { name: 'Slå på varsler' }).click();
    await waitFor(async () => (await visibleState(page)) === 'denied', { what: 'the refusal said' });
    expect(await page.locator('[data-push-state="denied"]').textContent()).toContain('blokkert');
    expect(await ctx.deps.db.pushSubscription.count({ where: { userId: other.id } })).toBe(0);
    await refused.close();

    const plain = await signedInContext({ javaScriptEnabled: false });
    const noScript = await plain.newPage();
    await noScript.goto(`${base}/me/subscriptions`);
    expect(await visibleState(noScript)).toBe('no-script');
    expect(await noScript.locator('[data-push-state="no-script"]').textContent()).toContain('JavaScript');
    await plain.close();
  });
});
