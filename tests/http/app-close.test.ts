/**
 * app.close() is bounded by CONNECTION_CLOSE_GRACE_MS (src/http/app.ts), not by the clients: a connection that is
 * in the middle of sending a request's headers and then goes quiet (a slow or stalled client) would otherwise keep
 * Node's server.close() waiting until its headers timeout (a minute), and a finished keep-alive connection must not
 * hold it either. A response still being written is not cut.
 */
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, CONNECTION_CLOSE_GRACE_MS } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

async function listening(): Promise<{ app: FastifyInstance; port: number }> {
  const app = await buildApp(ctx.deps, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { app, port: address.port };
}

function rawConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
  });
}

describe('app.close()', () => {
  it('cuts a connection stalled in the middle of its request headers after the grace, not after a minute', async () => {
    const { app, port } = await listening();
    const stalled = await rawConnection(port);
    stalled.on('error', () => {});
    stalled.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    // A finished keep-alive request on another connection, idle when the server closes.
    const idle = await rawConnection(port);
    const answered = new Promise<string>((resolve) => idle.once('data', (chunk) => resolve(chunk.toString())));
    idle.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);

    const started = Date.now();
    await app.close();
    const took = Date.now() - started;

    await Promise.all([closed(stalled), closed(idle)]);
    expect(took).toBeLessThan(CONNECTION_CLOSE_GRACE_MS + 5_000);
  });
});
