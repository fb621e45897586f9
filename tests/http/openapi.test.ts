import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let app: FastifyInstance;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
let doc: any;

/** Every API v1 operation, with whether it needs a token and the error statuses it must document. */
const OPERATIONS: { method: string; path: string; auth: 'required' | 'optional'; errors: string[] }[] = [
  { method: 'post', path: '/api/v1/channels', auth: 'required', errors: ['400', '401', '403', '409', '413', '415'] },
  { method: 'get', path: '/api/v1/channels', auth: 'optional', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/search', auth: 'optional', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/directory', auth: 'optional', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/channels/{slug}', auth: 'optional', errors: ['400', '401', '404'] },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/announcements',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415', '422'],
  },
  { method: 'get', path: '/api/v1/channels/{slug}/announcements', auth: 'optional', errors: ['400', '401', '404'] },
  { method: 'get', path: '/api/v1/announcements/{id}', auth: 'optional', errors: ['400', '401', '404'] },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/calendar.ics',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/retract',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409'],
  },
  {
    method: 'put',
    path: '/api/v1/announcements/{id}/pin',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'delete', path: '/api/v1/announcements/{id}/pin', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/attachments',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/announcements/{id}/attachments', auth: 'optional', errors: ['400', '401', '404'] },
  { method: 'get', path: '/api/v1/attachments/{id}/{filename}', auth: 'optional', errors: ['400', '401', '404'] },
  { method: 'delete', path: '/api/v1/attachments/{id}', auth: 'required', errors: ['400', '401', '403', '404'] },
  { method: 'get', path: '/api/v1/channels/{slug}/drafts', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/publish',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/unschedule',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409'],
  },
  {
    method: 'patch',
    path: '/api/v1/announcements/{id}',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/announcements/{id}/revisions', auth: 'optional', errors: ['400', '401', '404'] },
  { method: 'get', path: '/api/v1/me/subscriptions', auth: 'required', errors: ['401'] },
  { method: 'put', path: '/api/v1/me/subscriptions/{slug}', auth: 'required', errors: ['400', '401', '404', '415'] },
  { method: 'delete', path: '/api/v1/me/subscriptions/{slug}', auth: 'required', errors: ['401', '404'] },
  { method: 'get', path: '/api/v1/push/public-key', auth: 'required', errors: ['401', '404'] },
  { method: 'get', path: '/api/v1/me/push-subscriptions', auth: 'required', errors: ['401'] },
  { method: 'post', path: '/api/v1/me/push-subscriptions', auth: 'required', errors: ['400', '401', '413', '415'] },
  { method: 'delete', path: '/api/v1/me/push-subscriptions/{id}', auth: 'required', errors: ['400', '401', '404'] },
  {
    method: 'patch',
    path: '/api/v1/channels/{slug}',
    auth: 'required',
    errors: ['400', '401', '403', '404', '413', '415'],
  },
  { method: 'delete', path: '/api/v1/channels/{slug}', auth: 'required', errors: ['400', '401', '403', '404'] },
  { method: 'get', path: '/api/v1/channels/{slug}/roles', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'put',
    path: '/api/v1/channels/{slug}/roles/{userId}',
    auth: 'required',
    errors: ['400', '401', '403', '404', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/channels/{slug}/roles/{userId}',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  { method: 'get', path: '/api/v1/organisations', auth: 'optional', errors: ['401'] },
  {
    method: 'post',
    path: '/api/v1/organisations',
    auth: 'required',
    errors: ['400', '401', '403', '409', '413', '415'],
  },
  {
    method: 'patch',
    path: '/api/v1/organisations/{code}',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/me/tokens', auth: 'required', errors: ['401'] },
  { method: 'post', path: '/api/v1/me/tokens', auth: 'required', errors: ['400', '401', '403', '413', '415'] },
  { method: 'delete', path: '/api/v1/me/tokens/{id}', auth: 'required', errors: ['400', '401', '404'] },
  { method: 'delete', path: '/api/v1/tokens/{id}', auth: 'required', errors: ['400', '401', '403', '404'] },
  { method: 'get', path: '/api/v1/me/feed-tokens', auth: 'required', errors: ['401'] },
  { method: 'post', path: '/api/v1/me/feed-tokens', auth: 'required', errors: ['401', '403'] },
  { method: 'delete', path: '/api/v1/me/feed-tokens/{id}', auth: 'required', errors: ['400', '401', '404'] },
  { method: 'post', path: '/api/v1/live/tickets', auth: 'required', errors: ['401', '403'] },
  { method: 'get', path: '/api/v1/live/sse', auth: 'optional', errors: ['400', '401', '403'] },
  { method: 'get', path: '/api/v1/me', auth: 'required', errors: ['401'] },
  { method: 'get', path: '/api/v1/me/export', auth: 'required', errors: ['401', '403'] },
  { method: 'delete', path: '/api/v1/me', auth: 'required', errors: ['400', '401', '403', '413', '415'] },
  { method: 'get', path: '/api/v1/admin/audit', auth: 'required', errors: ['400', '401', '403'] },
  { method: 'get', path: '/api/v1/admin/queues', auth: 'required', errors: ['401', '403'] },
  { method: 'get', path: '/api/v1/admin/queues/{name}/failed', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/deliveries',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/deliveries/retry',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  { method: 'get', path: '/api/v1/me/feed', auth: 'required', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/me/unread', auth: 'required', errors: ['401'] },
  { method: 'put', path: '/api/v1/me/reads/{id}', auth: 'required', errors: ['400', '401', '404'] },
  { method: 'delete', path: '/api/v1/me/reads/{id}', auth: 'required', errors: ['400', '401', '404'] },
  { method: 'post', path: '/api/v1/me/reads', auth: 'required', errors: ['400', '401', '404', '413', '415'] },
  {
    method: 'put',
    path: '/api/v1/announcements/{id}/rating',
    auth: 'required',
    errors: ['400', '401', '404', '413', '415'],
  },
  { method: 'delete', path: '/api/v1/announcements/{id}/rating', auth: 'required', errors: ['400', '401', '404'] },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/acknowledgement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/acknowledgements',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/webhooks',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/channels/{slug}/webhooks', auth: 'required', errors: ['400', '401', '403', '404'] },
  { method: 'get', path: '/api/v1/webhooks/{id}', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'patch',
    path: '/api/v1/webhooks/{id}',
    auth: 'required',
    errors: ['400', '401', '403', '404', '413', '415'],
  },
  { method: 'delete', path: '/api/v1/webhooks/{id}', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'post',
    path: '/api/v1/webhooks/{id}/rotate-secret',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  { method: 'post', path: '/api/v1/webhooks/{id}/test', auth: 'required', errors: ['400', '401', '403', '404'] },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/email-subscriptions',
    auth: 'optional',
    errors: ['400', '401', '404', '413', '415'],
  },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/email-subscriptions/import',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/admin/suppressions', auth: 'required', errors: ['400', '401', '403', '404'] },
];

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.org' });
  app = await buildApp(ctx.deps, { logger: false });
  const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  doc = response.json();
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document by the official schema', async () => {
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('names the API, the server from PUBLIC_URL and the bearer scheme', () => {
    expect(doc.info.title).toBe('Meldingskanal API');
    expect(doc.servers).toEqual([{ url: 'https://meldingskanal.example.org' }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('lists every API v1 route, and no other v1 route', () => {
    const listed = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, item]) =>
        Object.keys(item as object)
          .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
          .map((m) => `${m} ${path}`),
      )
      // The WebSocket endpoint is documented by its own plugin.
      .filter((op) => op !== 'get /api/v1/live');
    expect(listed.sort()).toEqual(OPERATIONS.map((o) => `${o.method} ${o.path}`).sort());
  });

  it('gives each route tags, a summary, security and its success and error responses', () => {
    for (const { method, path, auth, errors } of OPERATIONS) {
      const op = doc.paths[path][method];
      const where = `${method} ${path}`;
      expect(op.tags?.length, where).toBeGreaterThan(0);
      expect(op.summary, where).toEqual(expect.any(String));
      const expectedSecurity = auth === 'required' ? [{ bearerAuth: [] }] : [{ bearerAuth: [] }, {}];
      expect(op.security, where).toEqual(expectedSecurity);
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        where,
      ).toBe(true);
      for (const status of [...errors, '500', '503']) {
        expect(op.responses[status]?.content?.['application/json']?.schema, `${where} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        });
        expect(op.responses[status].description, `${where} ${status}`).toEqual(expect.any(String));
      }
    }
  });

  it('defines the shared Error schema once, and every $ref resolves', () => {
    expect(doc.components.schemas.Error.properties).toHaveProperty('requestId');
    expect(doc.components.schemas.Error.properties.error.properties).toHaveProperty('code');
    const refs = new Set<string>();
    const visit = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.add(value);
          else visit(value);
        }
      }
    };
    visit(doc.paths);
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!);
    }
  });

  it('documents request bodies and the page parameters with their limits', () => {
    const publish = doc.paths['/api/v1/channels/{slug}/announcements'].post;
    const body = publish.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.body.maxLength).toBe(20_000);
    const list = doc.paths['/api/v1/channels/{slug}/announcements'].get;
    const limit = list.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', schema: { maximum: 100, default: 20 } });
  });
});

describe('GET /api/docs', () => {
  it('serves the interactive documentation as HTML', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toMatch(/swagger/i);
  });
});
