/**
 * The world of the publishers' browser tests (tests/e2e/publisher-*.test.ts): the app in this process on a free
 * port, a channel with its owner, a published bilingual announcement with deliveries (sent, failed, skipped), an
 * acknowledgement and a webhook, and Chromium carrying the owner's session — made as sign-in makes one
 * (tests/e2e/publisher-flow.test.ts signs in through the provider instead).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { SESSION_COOKIE } from '../../src/services/sessions.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { createTestContext, type TestContext } from './context.js';
import { createChannel, createUser, grantRole, type TestChannel } from './factories.js';
import { browserSession } from './web.js';

export interface PublisherPagesWorld {
  ctx: TestContext;
  app: FastifyInstance;
  /** `http://localhost:<port>` */
  base: string;
  browser: TestBrowser;
  channel: TestChannel;
  announcementId: string;
  /** Every page the publishers' area has, as the channel's owner sees it. */
  pages: { name: string; path: string }[];
  /** A new tab on `path` in `language`, checked to answer 200 in that language. */
  open(path: string, language: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startPublisherPages(): Promise<PublisherPagesWorld> {
  const ctx = await createTestContext({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  const db = ctx.deps.db;
  const channel = await createChannel(db, { visibility: 'internal', title: 'BOTT Økonomi og lønn' });
  const owner = await createUser(db, { organisationCode: 'UiO' });
  await createUser(db, { organisationCode: 'UiB' });
  await grantRole(db, channel.id, owner.id, 'owner');
  const actor: Actor = {
    kind: 'user',
    userId: owner.id,
    isAdmin: false,
    organisationId: owner.organisationId,
    scopes: ['read', 'publish'],
  };
  const published = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, actor, channel.slug, {
    title: 'Lønnskjøring flyttes',
    body: 'Lønnskjøringen i desember flyttes til **15. desember**.',
    translations: [{ language: 'en', title: 'Payroll run moved', body: 'The December payroll run moves to the 15th.' }],
    acknowledgement: { required: true },
  });
  const announcementId = published.id;
  await db.delivery.createMany({
    data: [
      { announcementId, recipient: 'email:a@uio.no', medium: 'email', status: 'sent' },
      { announcementId, recipient: 'email:b@uio.no', medium: 'email', status: 'failed' },
      { announcementId, recipient: 'email:c@uio.no', medium: 'email', status: 'skipped', skipReason: 'suppressed' },
      { announcementId, recipient: `user:${owner.id}`, medium: 'push', status: 'sent' },
    ],
  });
  await db.announcementAcknowledgement.create({
    data: { announcementId, userId: owner.id, organisationId: owner.organisationId },
  });
  await db.webhook.create({
    data: {
      id: randomUUID(),
      channelId: channel.id,
      url: 'https://chat.example.org/hooks/lonn',
      format: 'slack',
      secret: 'whsec_test',
    },
  });
  const app = await buildApp(ctx.deps, { logger: false });
  const base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('127.0.0.1', 'localhost');
  const browser = await launchBrowser();
  const session = await browserSession(db, owner.id);
  // A __Host- cookie must be Secure; Chromium sends Secure cookies to http://localhost, which it trusts.
  await browser.context.addCookies([
    {
      name: SESSION_COOKIE,
      value: session.cookie.slice(SESSION_COOKIE.length + 1),
      url: base.replace('http:', 'https:'),
      secure: true,
      sameSite: 'Lax',
    },
  ]);
  const open = async (path: string, language: string) => {
    const page = await browser.context.newPage();
    const response = await page.goto(`${base}${path}${path.includes('?') ? '&' : '?'}lang=${language}`);
    expect(response?.status(), path).toBe(200);
    expect(await page.getAttribute('html', 'lang')).toBe(language);
    return page;
  };
  return {
    ctx,
    app,
    base,
    browser,
    channel,
    announcementId,
    pages: [
      { name: 'publishing start page', path: '/publish' },
      { name: 'editor (new)', path: `/channels/${channel.slug}/announcements/new` },
      { name: 'editor (published)', path: `/announcements/${announcementId}/edit` },
      { name: 'delivery figures', path: `/announcements/${announcementId}/deliveries` },
      { name: 'retraction', path: `/announcements/${announcementId}/retract` },
      { name: 'channel settings', path: `/channels/${channel.slug}/settings` },
    ],
    open,
    async close() {
      await browser.close();
      await app.close();
      await ctx.close();
    },
  };
}
