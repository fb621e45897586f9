/**
 * What an open WebSocket keeps of the HTTP request it was opened with (src/http/plugins/live.ts, letRequestGo): its
 * session needs the actor, credential, language and logger, not Fastify's request and reply nor Node's IncomingMessage
 * and ServerResponse, which would otherwise live (with their headers) as long as the socket. Checked with weak
 * references and a forced garbage collection, on a socket that keeps working afterwards (errors, frames, its slot).
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { LIVE_PATH } from '../../src/http/plugins/live.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let ctx: TestContext;
let app: FastifyInstance;
let url: string;
let token: string;
const requests: WeakRef<object>[] = [];
const clients: LiveClient[] = [];

beforeAll(async () => {
  ctx = await createTestContext({ WS_MAX_PAYLOAD_BYTES: '1024' });
  await createChannel(ctx.deps.db, { slug: 'nyheter', visibility: 'public' });
  token = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
  app = await buildApp(ctx.deps, { logger: false });
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith(LIVE_PATH)) {
      requests.push(new WeakRef(request), new WeakRef(reply), new WeakRef(request.raw), new WeakRef(reply.raw));
    }
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.liveHub.start();
  url = `${address.replace(/^http/, 'ws')}${LIVE_PATH}`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await app?.close();
  await ctx?.close();
});

async function collected(): Promise<boolean> {
  for (let i = 0; i < 10; i += 1) {
    // Let pending callbacks of the handshake run out first.
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    if (requests.every((ref) => ref.deref() === undefined)) return true;
  }
  return false;
}

describe('an open WebSocket', () => {
  it('keeps neither the Fastify request and reply nor the IncomingMessage and ServerResponse', async () => {
    const client = await LiveClient.connect(url, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    client.send({ type: 'subscribe', channels: ['nyheter'] });
    await client.frame((f) => f.type === 'subscribed', 'subscribed');
    expect(requests).toHaveLength(4);
    expect(await collected()).toBe(true);
    // It still works: frames are answered, and a protocol violation still closes it with its code (the error listener
    // that replaced @fastify/websocket's).
    client.send({ type: 'ping' });
    await client.frame((f) => f.type === 'pong', 'pong');
    client.send({ type: 'subscribe', channels: ['x'.repeat(2000)] });
    expect((await client.whenClosed()).code).toBe(1009);
  });
});
