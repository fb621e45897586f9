/**
 * A 500 that still happens (issue 14) is seen by an operator: logged with the request id and the route, its type and
 * stack but nothing the request carried, and counted by route in meldingskanal_http_server_errors_total.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { errorSummary } from '../../src/http/plugins/errors.js';
import { POLICY } from '../../src/http/policy.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let app: FastifyInstance;
const lines: string[] = [];

/** An error like a driver's: a message that quotes the request, a code, and a cause with its own code. */
class QueryFailed extends Error {
  readonly code = 'P2010';
  constructor(value: string) {
    super(`Raw query failed: invalid input "${value}"`, {
      cause: Object.assign(new Error(`invalid byte sequence near "${value}"`), { originalCode: '22021' }),
    });
  }
}

beforeAll(async () => {
  ctx = await createTestContext({ LOG_LEVEL: 'info' });
  app = await buildApp(ctx.deps, { logDestination: { write: (line: string) => void lines.push(line) } });
  app.get<{ Params: { id: string } }>('/test/fails/:id', { config: { policy: POLICY.public } }, async (request) => {
    throw new QueryFailed(`Hemmelig tittel ${request.params.id}`);
  });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('a 500 that still happens', () => {
  it('is logged with the request id, the route and the error type, code and stack, without the message', async () => {
    lines.length = 0;
    const response = await app.inject({ method: 'GET', url: '/test/fails/personnummer-12345?q=privat' });
    expect(response.statusCode).toBe(500);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = entries.find((entry) => entry.msg === 'request failed');
    expect(failed).toMatchObject({
      level: 50,
      requestId: response.headers['x-request-id'],
      method: 'GET',
      route: '/test/fails/:id',
      error: { type: 'QueryFailed', code: 'P2010', causes: [{ type: 'Error', code: '22021' }] },
    });
    expect((failed!.error as { stack: string }).stack).toMatch(/^\s+at /);
    // The error's line holds nothing of the request (the access log has the path, never the query: src/logger.ts).
    const line = JSON.stringify(failed);
    for (const secret of ['Hemmelig', 'personnummer', '12345', 'privat', 'invalid byte'])
      expect(line).not.toContain(secret);
    expect(lines.join('')).not.toContain('privat');
  });

  it('is counted by route in meldingskanal_http_server_errors_total', async () => {
    await app.inject({ method: 'GET', url: '/test/fails/a' });
    const { body } = await app.metrics.render();
    const line = body.split('\n').find((l) => l.startsWith('meldingskanal_http_server_errors_total{'));
    expect(line).toMatch(/route="\/test\/fails\/:id"/);
    expect(line).toMatch(/status_code="500"/);
    expect(Number(line?.split(' ').at(-1))).toBeGreaterThanOrEqual(2);
    // A client error is not a server error.
    await app.inject({ method: 'GET', url: '/api/v1/channels?limit=0' });
    const after = (await app.metrics.render()).body;
    expect(after).not.toMatch(/meldingskanal_http_server_errors_total\{[^}]*route="\/api\/v1\/channels"/);
  });

  it('summarises anything thrown, not only Errors', () => {
    expect(errorSummary('a string with user data')).toEqual({ type: 'string' });
    expect(errorSummary(Object.assign(new TypeError('x'), { code: 'has spaces, so not a code' }))).toMatchObject({
      type: 'TypeError',
    });
  });
});
