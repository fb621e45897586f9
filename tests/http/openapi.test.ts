import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let app: FastifyInstance;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
let doc: any;

/**
 * Every API v1 operation: its operationId (stable: client generators name their methods after it, so renaming one
 * breaks integrators' code), whether it needs a token, and the error statuses it must document.
 */
const OPERATIONS: { method: string; path: string; id: string; auth: 'required' | 'optional'; errors: string[] }[] = [
  {
    method: 'post',
    path: '/api/v1/channels',
    id: 'createChannel',
    auth: 'required',
    errors: ['400', '401', '403', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/channels', id: 'listChannels', auth: 'optional', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/search', id: 'searchAnnouncements', auth: 'optional', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/directory', id: 'getChannelDirectory', auth: 'optional', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/channels/{slug}', id: 'getChannel', auth: 'optional', errors: ['400', '401', '404'] },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/announcements',
    id: 'publishAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415', '422'],
  },
  {
    method: 'get',
    path: '/api/v1/channels/{slug}/announcements',
    id: 'listChannelFeed',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}',
    id: 'getAnnouncement',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/calendar.ics',
    id: 'getAnnouncementCalendar',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/retract',
    id: 'retractAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409'],
  },
  {
    method: 'put',
    path: '/api/v1/announcements/{id}/pin',
    id: 'pinAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/announcements/{id}/pin',
    id: 'unpinAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/attachments',
    id: 'uploadAttachment',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/attachments',
    id: 'listAttachments',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/attachments/{id}/{filename}',
    id: 'downloadAttachment',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  {
    method: 'delete',
    path: '/api/v1/attachments/{id}',
    id: 'deleteAttachment',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/channels/{slug}/drafts',
    id: 'listChannelDrafts',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/publish',
    id: 'publishDraft',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/unschedule',
    id: 'unscheduleAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409'],
  },
  {
    method: 'patch',
    path: '/api/v1/announcements/{id}',
    id: 'editAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/revisions',
    id: 'listAnnouncementRevisions',
    auth: 'optional',
    errors: ['400', '401', '404'],
  },
  { method: 'get', path: '/api/v1/me/subscriptions', id: 'listMySubscriptions', auth: 'required', errors: ['401'] },
  {
    method: 'put',
    path: '/api/v1/me/subscriptions/{slug}',
    id: 'subscribeToChannel',
    auth: 'required',
    errors: ['400', '401', '404', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/me/subscriptions/{slug}',
    id: 'unsubscribeFromChannel',
    auth: 'required',
    errors: ['401', '404'],
  },
  { method: 'get', path: '/api/v1/push/public-key', id: 'getPushPublicKey', auth: 'required', errors: ['401', '404'] },
  {
    method: 'get',
    path: '/api/v1/me/push-subscriptions',
    id: 'listMyPushSubscriptions',
    auth: 'required',
    errors: ['401'],
  },
  {
    method: 'post',
    path: '/api/v1/me/push-subscriptions',
    id: 'registerPushSubscription',
    auth: 'required',
    errors: ['400', '401', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/me/push-subscriptions/{id}',
    id: 'deletePushSubscription',
    auth: 'required',
    errors: ['400', '401', '404'],
  },
  {
    method: 'patch',
    path: '/api/v1/channels/{slug}',
    id: 'updateChannel',
    auth: 'required',
    errors: ['400', '401', '403', '404', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/channels/{slug}',
    id: 'deleteChannel',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/channels/{slug}/roles',
    id: 'listChannelRoles',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'put',
    path: '/api/v1/channels/{slug}/roles/{userId}',
    id: 'grantChannelRole',
    auth: 'required',
    errors: ['400', '401', '403', '404', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/channels/{slug}/roles/{userId}',
    id: 'revokeChannelRole',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  { method: 'get', path: '/api/v1/organisations', id: 'listOrganisations', auth: 'optional', errors: ['401'] },
  {
    method: 'post',
    path: '/api/v1/organisations',
    id: 'createOrganisation',
    auth: 'required',
    errors: ['400', '401', '403', '409', '413', '415'],
  },
  {
    method: 'patch',
    path: '/api/v1/organisations/{code}',
    id: 'updateOrganisation',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  { method: 'get', path: '/api/v1/me/tokens', id: 'listMyTokens', auth: 'required', errors: ['401'] },
  {
    method: 'post',
    path: '/api/v1/me/tokens',
    id: 'createToken',
    auth: 'required',
    errors: ['400', '401', '403', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/me/tokens/{id}',
    id: 'revokeMyToken',
    auth: 'required',
    errors: ['400', '401', '404'],
  },
  {
    method: 'delete',
    path: '/api/v1/tokens/{id}',
    id: 'revokeToken',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  { method: 'get', path: '/api/v1/me/feed-tokens', id: 'listMyFeedTokens', auth: 'required', errors: ['401'] },
  { method: 'post', path: '/api/v1/me/feed-tokens', id: 'createFeedToken', auth: 'required', errors: ['401', '403'] },
  {
    method: 'delete',
    path: '/api/v1/me/feed-tokens/{id}',
    id: 'revokeFeedToken',
    auth: 'required',
    errors: ['400', '401', '404'],
  },
  { method: 'post', path: '/api/v1/live/tickets', id: 'createLiveTicket', auth: 'required', errors: ['401', '403'] },
  {
    method: 'get',
    path: '/api/v1/live/sse',
    id: 'openLiveEventStream',
    auth: 'optional',
    errors: ['400', '401', '403'],
  },
  { method: 'get', path: '/api/v1/me', id: 'getMe', auth: 'required', errors: ['401'] },
  { method: 'get', path: '/api/v1/me/export', id: 'exportMyData', auth: 'required', errors: ['401', '403'] },
  {
    method: 'delete',
    path: '/api/v1/me',
    id: 'deleteMyAccount',
    auth: 'required',
    errors: ['400', '401', '403', '413', '415'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/audit',
    id: 'listAuditRecords',
    auth: 'required',
    errors: ['400', '401', '403'],
  },
  { method: 'get', path: '/api/v1/admin/queues', id: 'getQueueOverview', auth: 'required', errors: ['401', '403'] },
  {
    method: 'get',
    path: '/api/v1/admin/queues/{name}/failed',
    id: 'listFailedJobs',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/deliveries',
    id: 'getDeliveryFigures',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/deliveries/retry',
    id: 'retryFailedDeliveries',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  { method: 'get', path: '/api/v1/me/feed', id: 'listMyFeed', auth: 'required', errors: ['400', '401'] },
  { method: 'get', path: '/api/v1/me/unread', id: 'getMyUnreadCounts', auth: 'required', errors: ['401'] },
  {
    method: 'put',
    path: '/api/v1/me/reads/{id}',
    id: 'markAnnouncementRead',
    auth: 'required',
    errors: ['400', '401', '404'],
  },
  {
    method: 'delete',
    path: '/api/v1/me/reads/{id}',
    id: 'markAnnouncementUnread',
    auth: 'required',
    errors: ['400', '401', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/me/reads',
    id: 'markAllRead',
    auth: 'required',
    errors: ['400', '401', '404', '413', '415'],
  },
  {
    method: 'put',
    path: '/api/v1/announcements/{id}/rating',
    id: 'rateAnnouncement',
    auth: 'required',
    errors: ['400', '401', '404', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/announcements/{id}/rating',
    id: 'withdrawMyRating',
    auth: 'required',
    errors: ['400', '401', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/announcements/{id}/acknowledgement',
    id: 'acknowledgeAnnouncement',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409'],
  },
  {
    method: 'get',
    path: '/api/v1/announcements/{id}/acknowledgements',
    id: 'getAcknowledgementFigures',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/webhooks',
    id: 'createWebhook',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'get',
    path: '/api/v1/channels/{slug}/webhooks',
    id: 'listChannelWebhooks',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'get',
    path: '/api/v1/webhooks/{id}',
    id: 'getWebhook',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'patch',
    path: '/api/v1/webhooks/{id}',
    id: 'updateWebhook',
    auth: 'required',
    errors: ['400', '401', '403', '404', '413', '415'],
  },
  {
    method: 'delete',
    path: '/api/v1/webhooks/{id}',
    id: 'deleteWebhook',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/webhooks/{id}/rotate-secret',
    id: 'rotateWebhookSecret',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/webhooks/{id}/test',
    id: 'testWebhook',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/email-subscriptions',
    id: 'subscribeEmailAddress',
    auth: 'optional',
    errors: ['400', '401', '404', '413', '415'],
  },
  {
    method: 'post',
    path: '/api/v1/channels/{slug}/email-subscriptions/import',
    id: 'importEmailSubscribers',
    auth: 'required',
    errors: ['400', '401', '403', '404', '409', '413', '415'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/suppressions',
    id: 'lookUpSuppression',
    auth: 'required',
    errors: ['400', '401', '403', '404'],
  },
];

/** The operations outside API v1: probes and the pages behind e-mail links. They take no credentials at all. */
const OTHER_OPERATIONS: { method: string; path: string; id: string }[] = [
  { method: 'get', path: '/healthz', id: 'checkLiveness' },
  { method: 'get', path: '/readyz', id: 'checkReadiness' },
  { method: 'get', path: '/unsubscribe', id: 'showUnsubscribePage' },
  { method: 'post', path: '/unsubscribe', id: 'unsubscribeByLink' },
  { method: 'get', path: '/subscriptions/confirm', id: 'showConfirmationPage' },
  { method: 'post', path: '/subscriptions/confirm', id: 'confirmEmailSubscription' },
];

/**
 * The WebSocket upgrade: documented (its refusals, and its frames in components.schemas) but answering 101, not 2xx;
 * tests/http/live-docs.test.ts checks it.
 */
const LIVE_WEBSOCKET = { method: 'get', path: '/api/v1/live', id: 'openLiveConnection' };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every operation of the document, as `method path` and its operation object. */
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
function operationsOf(document: any): { where: string; op: any }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as object)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ where: `${method} ${path}`, op })),
  );
}

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
      // 429: every operation but the probes is rate-limited (src/http/plugins/rate-limit.ts).
      for (const status of [...errors, '429', '500', '503']) {
        expect(op.responses[status]?.content?.['application/json']?.schema, `${where} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        });
        expect(op.responses[status].description, `${where} ${status}`).toEqual(expect.any(String));
      }
    }
  });

  it('gives every operation a unique camelCase operationId, the one client generators have been given so far', () => {
    const seen = new Map<string, string>();
    for (const { where, op } of operationsOf(doc)) {
      expect(op.operationId, where).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(seen.get(op.operationId), `${where} shares its operationId`).toBeUndefined();
      seen.set(op.operationId, where);
    }
    for (const { method, path, id } of [...OPERATIONS, ...OTHER_OPERATIONS]) {
      expect(doc.paths[path]?.[method]?.operationId, `${method} ${path}`).toBe(id);
    }
    // Pinned too where the document has it (the live plugin documents it: tests/http/live-docs.test.ts).
    const socket = doc.paths[LIVE_WEBSOCKET.path]?.[LIVE_WEBSOCKET.method];
    if (socket) expect(socket.operationId).toBe(LIVE_WEBSOCKET.id);
    // Every operation but the WebSocket upgrade (101) has a success answer (redocly.yaml leaves this rule to us).
    for (const { where, op } of operationsOf(doc)) {
      if (where === `${LIVE_WEBSOCKET.method} ${LIVE_WEBSOCKET.path}`) continue;
      expect(
        Object.keys(op.responses).some((status) => status.startsWith('2')),
        `${where}: no 2xx`,
      ).toBe(true);
    }
    // Nothing documented beyond the lists (so each new operation gets its id pinned here too).
    expect(seen.size).toBe(OPERATIONS.length + OTHER_OPERATIONS.length + (socket ? 1 : 0));
  });

  it('declares `security: []` on the operations that take no credentials, and documents their 4xx answers', () => {
    for (const { method, path } of OTHER_OPERATIONS) {
      const op = doc.paths[path][method];
      expect(op.security, `${method} ${path}`).toEqual([]);
      expect(op.responses['401']?.content?.['application/json']?.schema).toEqual({
        $ref: '#/components/schemas/Error',
      });
    }
    for (const path of ['/unsubscribe', '/subscriptions/confirm']) {
      for (const method of ['get', 'post']) {
        const { responses } = doc.paths[path][method];
        expect(Object.keys(responses['400'].content), `${method} ${path}`).toEqual(['text/html']);
        expect(Object.keys(responses['200'].content), `${method} ${path}`).toEqual(['text/html']);
      }
    }
    // Probes are not rate-limited, so they never answer 429.
    expect(doc.paths['/healthz'].get.responses['429']).toBeUndefined();
    expect(doc.paths['/readyz'].get.responses['503'].content['application/json'].schema.properties).toHaveProperty(
      'checks',
    );
  });

  it('lets callers leave out request fields that have a default', () => {
    const list = doc.paths['/api/v1/channels/{slug}/announcements'].get;
    for (const name of ['limit', 'archive']) {
      const parameter = list.parameters.find((p: { name: string }) => p.name === name);
      expect(parameter, name).toMatchObject({ in: 'query', required: false });
      expect(parameter.schema.default, name).toBeDefined();
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
