/**
 * Route policies: a route without one stops the app from starting; the coarse checks every route of a kind shares;
 * the policy published in the OpenAPI document.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { coarseDenial, isRoutePolicy, MissingPolicyError, POLICY, type RoutePolicy } from '../../src/http/policy.js';
import { Text } from '../../src/http/schemas/common.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

describe('a route without a policy', () => {
  it('is refused when added to the built app, naming the route and the fix', async () => {
    const app = await buildApp(ctx.deps, { logger: false });
    try {
      expect(() => app.get('/extra', async () => 'no policy')).toThrow(MissingPolicyError);
      expect(() => app.get('/extra-2', async () => 'no policy')).toThrow(
        /GET \/extra-2 declares no valid route policy/,
      );
      expect(() => app.get('/extra-3', async () => 'x')).toThrow(/config: \{ policy: POLICY/);
    } finally {
      await app.close();
    }
  });

  it('makes the app fail to start when a plugin registers it', async () => {
    const app = await buildApp(ctx.deps, { logger: false });
    app.register(async (plugin) => {
      plugin.post('/api/v1/forgotten', async () => ({ ok: true }));
    });
    await expect(app.ready()).rejects.toThrow(MissingPolicyError);
    await app.close().catch(() => {});
  });

  it('is refused when its policy is malformed (unknown kind, unknown need, stray need)', async () => {
    const app = await buildApp(ctx.deps, { logger: false });
    try {
      for (const policy of [{ kind: 'anyone' }, { kind: 'channel', need: 'write' }, { kind: 'admin', need: 'read' }]) {
        expect(() =>
          app.get(`/x-${policy.kind}`, { config: { policy: policy as RoutePolicy } }, async () => 'x'),
        ).toThrow(MissingPolicyError);
      }
      // A well-formed policy is accepted.
      expect(() => app.get('/fine', { config: { policy: POLICY.public } }, async () => 'x')).not.toThrow();
    } finally {
      await app.close();
    }
  });
});

describe('isRoutePolicy', () => {
  it('accepts the vocabulary and nothing else', () => {
    for (const policy of Object.values(POLICY)) expect(isRoutePolicy(policy), JSON.stringify(policy)).toBe(true);
    for (const value of [undefined, null, 'public', {}, { kind: 'channel' }, { kind: 'self', need: 'manage' }]) {
      expect(isRoutePolicy(value), JSON.stringify(value)).toBe(false);
    }
  });
});

describe('a route with a policy', () => {
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};
  const KINDS = Object.keys(POLICY) as (keyof typeof POLICY)[];

  beforeAll(async () => {
    app = await buildApp(ctx.deps, { logger: false });
    // One probe route per policy, answering 200 whenever the coarse check lets the request through.
    for (const kind of KINDS) {
      app.post(`/probe/${kind}`, { config: { policy: POLICY[kind] } }, async () => ({ reached: kind }));
    }
    app.post(
      '/probe-validated',
      {
        config: { policy: POLICY.admin },
        schema: { body: { type: 'object', required: ['x'], properties: { x: Text.line() } } },
      },
      async () => ({ ok: true }),
    );
    const db = ctx.deps.db;
    const admin = await createUser(db, { isAdmin: true });
    const member = await createUser(db, { organisationCode: 'UiB' });
    tokens.admin = await tokenFor(db, admin.id);
    tokens.adminWithoutAdminScope = await tokenFor(db, admin.id, { scopes: ['read', 'publish'] });
    tokens.member = await tokenFor(db, member.id);
    tokens.readOnly = await tokenFor(db, member.id, { scopes: ['read'] });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  async function statusOf(kind: string, who: string | null): Promise<number> {
    const response = await app.inject({
      method: 'POST',
      url: `/probe/${kind}`,
      headers: who ? { authorization: `Bearer ${tokens[who]}` } : {},
    });
    return response.statusCode;
  }

  // biome-ignore format: a table
  const EXPECTED: Record<keyof typeof POLICY, [anonymous: number, readOnly: number, member: number, adminWithoutAdminScope: number, admin: number]> = {
    public:         [200, 200, 200, 200, 200],
    operational:    [200, 200, 200, 200, 200],
    channelRead:    [200, 200, 200, 200, 200],
    signedIn:       [401, 200, 200, 200, 200],
    self:           [401, 200, 200, 200, 200],
    channelPublish: [401, 403, 200, 200, 200],
    channelManage:  [401, 403, 200, 200, 200],
    admin:          [401, 403, 403, 403, 200],
  };

  it('answer each policy kind as the table says (401 without credentials, 403 without scope or admin rights)', async () => {
    const who = [null, 'readOnly', 'member', 'adminWithoutAdminScope', 'admin'] as const;
    for (const kind of KINDS) {
      const statuses = await Promise.all(who.map((w) => statusOf(kind, w)));
      expect(statuses, kind).toEqual(EXPECTED[kind]);
    }
  });

  it('run before the body is validated: no credentials is a 401, whatever the body', async () => {
    const response = await app.inject({ method: 'POST', url: '/probe-validated', payload: { wrong: 1 } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('unauthenticated');
  });

  it('coarseDenial never lets an anonymous caller past a policy that needs a user', () => {
    for (const policy of Object.values(POLICY)) {
      const denial = coarseDenial(policy, ANONYMOUS);
      const open =
        ['public', 'operational'].includes(policy.kind) || (policy.kind === 'channel' && policy.need === 'read');
      expect(denial?.code ?? null, JSON.stringify(policy)).toBe(open ? null : 'unauthenticated');
    }
  });

  it('carries each operation’s policy into the OpenAPI document as x-policy', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.paths['/api/v1/channels'].post['x-policy']).toEqual({ kind: 'admin' });
    expect(doc.paths['/api/v1/channels/{slug}'].patch['x-policy']).toEqual({ kind: 'channel', need: 'manage' });
    expect(doc.paths['/healthz'].get['x-policy']).toEqual({ kind: 'operational' });
    expect(doc.paths['/probe/signedIn'].post['x-policy']).toEqual({ kind: 'signedIn' });
  });
});
