/**
 * Changes made over the management API that take reading away reach open live connections at once: the periodic
 * re-check is set to ten minutes here, so only the access hint the change publishes can explain a prompt removal.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';

let ctx: TestContext;
let app: FastifyInstance;
let liveUrl: string;
let admin: TestUser;
let adminToken: string;
const clients: LiveClient[] = [];

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext({ LIVE_ACCESS_RECHECK_MS: '600000' });
  app = await buildApp(ctx.deps, { logger: false });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  liveUrl = `${address.replace('http', 'ws')}/api/v1/live`;
  await app.liveHub.start();
  admin = await createUser(ctx.deps.db, { isAdmin: true });
  adminToken = await tokenFor(ctx.deps.db, admin.id);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await app?.close();
  await ctx?.close();
});

/** A publisher of a fresh restricted channel, watching it live. */
async function watchingPublisher() {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { visibility: 'restricted' });
  const person = await createUser(db, { organisationCode: 'UiB' });
  await grantRole(db, channel.id, person.id, 'publisher');
  const token = await tokenFor(db, person.id);
  const client = await LiveClient.connect(liveUrl, { headers: bearer(token) });
  clients.push(client);
  client.send({ type: 'subscribe', channels: [channel.slug] });
  const subscribed = await client.frame((f) => f.type === 'subscribed', 'subscribed');
  expect(subscribed.channels).toEqual([channel.slug]);
  return { channel, person, token, client };
}

describe('live connections after a management change', () => {
  it('lose a channel at once when the role that let them read it is revoked', async () => {
    const { channel, person, client } = await watchingPublisher();
    const response = await app.inject({
      method: 'DELETE',
      url: `/api/v1/channels/${channel.slug}/roles/${person.id}`,
      headers: bearer(adminToken),
    });
    expect(response.statusCode).toBe(204);
    const removed = await client.frame((f) => f.type === 'unsubscribed', 'unsubscribed after the role was revoked');
    expect(removed).toMatchObject({ channels: [channel.slug], reason: 'access' });
  });

  it('end at once when the token they were opened with is revoked', async () => {
    const { person, client } = await watchingPublisher();
    const { id } = (await ctx.deps.db.apiToken.findFirstOrThrow({
      where: { userId: person.id },
      select: { id: true },
    })) as { id: string };
    const response = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: bearer(adminToken) });
    expect(response.statusCode).toBe(204);
    const closed = await client.whenClosed();
    expect(closed.code).toBe(4401);
  });

  it('lose a channel at once when its visibility narrows past them', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'internal' });
    const member = await createUser(db, { organisationCode: 'NTNU' });
    const client = await LiveClient.connect(liveUrl, { headers: bearer(await tokenFor(db, member.id)) });
    clients.push(client);
    client.send({ type: 'subscribe', channels: [channel.slug] });
    expect((await client.frame((f) => f.type === 'subscribed', 'subscribed')).channels).toEqual([channel.slug]);
    const response = await app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${channel.slug}`,
      headers: bearer(adminToken),
      payload: { visibility: 'restricted' },
    });
    expect(response.statusCode).toBe(200);
    const removed = await client.frame((f) => f.type === 'unsubscribed', 'unsubscribed after the visibility changed');
    expect(removed).toMatchObject({ channels: [channel.slug], reason: 'access' });
  });
});
