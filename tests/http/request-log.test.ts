/**
 * Fastify's per-request log lines (src/http/request-log.ts): a WebSocket handshake's "incoming request" is written at
 * debug level, not info; every other request, and a refused handshake's outcome, is logged as before.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { LiveClient } from '../helpers/live-client.js';
import { waitFor } from '../helpers/wait.js';

interface Line {
  level: number;
  msg: string;
  req?: { url: string };
  res?: { statusCode: number };
}

let ctx: TestContext;
const apps: FastifyInstance[] = [];

async function listening(logLevel: 'info' | 'debug') {
  const lines: Line[] = [];
  const app = await buildApp(
    { ...ctx.deps, config: { ...ctx.deps.config, logLevel } },
    { logDestination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } },
  );
  apps.push(app);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { address, lines, liveUrl: `${address.replace(/^http/, 'ws')}/api/v1/live` };
}

const incoming = (lines: Line[], path: string) =>
  lines.filter((line) => line.msg === 'incoming request' && line.req?.url === path);

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await ctx?.close();
});

describe('request log lines', () => {
  it('logs plain requests at info, a WebSocket handshake only at debug', async () => {
    const { address, lines, liveUrl } = await listening('info');
    expect((await fetch(`${address}/api/v1/channels`)).status).toBe(200);
    const client = await LiveClient.connect(liveUrl);
    client.send({ type: 'ping' });
    await client.frame((f) => f.type === 'pong', 'pong');
    client.close();
    await waitFor(() => lines.some((line) => line.msg === 'request completed'), { what: 'the GET logged' });
    expect(incoming(lines, '/api/v1/channels').map((line) => line.level)).toEqual([30]);
    expect(incoming(lines, '/api/v1/live')).toEqual([]);
  });

  it('still logs a refused handshake with its status, and the handshake itself at LOG_LEVEL=debug', async () => {
    const info = await listening('info');
    const refused = await LiveClient.refused(info.liveUrl, { headers: { authorization: 'Bearer mkt_wrong' } });
    expect(refused.status).toBe(401);
    await waitFor(() => info.lines.some((line) => line.res?.statusCode === 401), { what: 'the 401 logged' });

    const debug = await listening('debug');
    const client = await LiveClient.connect(debug.liveUrl);
    client.close();
    await waitFor(() => incoming(debug.lines, '/api/v1/live').length > 0, { what: 'the handshake logged' });
    expect(incoming(debug.lines, '/api/v1/live').map((line) => line.level)).toEqual([20]);
  });
});
