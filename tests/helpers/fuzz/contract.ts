/**
 * The contract fuzzer (issue 14): for every operation of /api/openapi.json, as an administrator and against real
 * objects (world.ts), requests generated from the operation's own schemas with fast-check, mutated with hostile input
 * (corpus.ts), and the fixed corpus on top. Each answer must be
 * - no 5xx, and within REQUEST_TIMEOUT_MS;
 * - a status the operation documents, of a documented content type, with a body that its documented schema accepts;
 * - after a refusal (4xx), no row added or removed in any table (the audit log may record a 401/403: that is its job).
 *
 * Seeded (FUZZ_SEED, default below) and bounded: FUZZ_RUNS generated requests per operation (default CI_RUNS) plus
 * the corpus. Run longer with e.g. `FUZZ_RUNS=500 npx vitest run tests/fuzz`. A failure prints the request; make it
 * a case in REGRESSIONS below (and, for the fix, in tests/http/input-hygiene.test.ts) before fixing it.
 *
 * Operations are split over the test files in tests/fuzz (SHARDS), which run in parallel, each with its own world.
 * tests/fuzz/coverage.test.ts fails when the document has an operation that is not in OPERATIONS, or the other way.
 */

import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { isTextKind, textProblem } from '../../../src/domain/text.js';
import {
  NASTY_HEADER_VALUES,
  NASTY_JSON_BODIES,
  NASTY_STRINGS,
  NASTY_TEXT_BODIES,
  READ_HEADERS,
  WRONG_CONTENT_TYPES,
} from './corpus.js';
import { arbitraryOf, type JsonSchema, type SchemaContext } from './schema-arbitrary.js';
import { browserPushSubscription, createFuzzWorld, type FuzzWorld, type PoolName, rowCounts } from './world.js';

export const SHARDS = ['publishing', 'channels', 'subscribers', 'accounts', 'live'] as const;
export type Shard = (typeof SHARDS)[number];

/** Generated requests per operation in CI; FUZZ_RUNS overrides. */
const CI_RUNS = 20;
const RUNS = Number(process.env.FUZZ_RUNS ?? CI_RUNS);
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
/** Longer than any request may take: a hang is a failure, not a slow test. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface OperationSpec {
  shard: Shard;
  /** Real values for path parameters, by parameter name: a pool of the world. */
  params?: Record<string, PoolName>;
  /** Real values for query parameters, by name. */
  query?: Record<string, PoolName>;
}

const announcement = { id: 'announcement' } as const;

/**
 * Every operation of the document, by `method path`, with the shard (test file) that fuzzes it and where its path
 * parameters come from. The live operations are fuzzed over real connections in tests/fuzz/live-input.test.ts.
 */
export const OPERATIONS: Record<string, OperationSpec> = {
  // ---- publishing: announcements, drafts, attachments, deliveries, acknowledgements
  'post /api/v1/channels/{slug}/announcements': { shard: 'publishing', params: { slug: 'slug' } },
  'get /api/v1/channels/{slug}/announcements': { shard: 'publishing', params: { slug: 'slug' } },
  'get /api/v1/announcements/{id}': { shard: 'publishing', params: announcement },
  'patch /api/v1/announcements/{id}': { shard: 'publishing', params: announcement },
  'post /api/v1/announcements/{id}/retract': { shard: 'publishing', params: { id: 'retractable' } },
  'put /api/v1/announcements/{id}/pin': { shard: 'publishing', params: announcement },
  'delete /api/v1/announcements/{id}/pin': { shard: 'publishing', params: announcement },
  'get /api/v1/channels/{slug}/drafts': { shard: 'publishing', params: { slug: 'slug' } },
  'post /api/v1/announcements/{id}/publish': { shard: 'publishing', params: { id: 'draft' } },
  'post /api/v1/announcements/{id}/unschedule': { shard: 'publishing', params: { id: 'scheduled' } },
  'get /api/v1/announcements/{id}/revisions': { shard: 'publishing', params: announcement },
  'get /api/v1/announcements/{id}/calendar.ics': { shard: 'publishing', params: { id: 'maintenance' } },
  'post /api/v1/announcements/{id}/attachments': { shard: 'publishing', params: announcement },
  'get /api/v1/announcements/{id}/attachments': { shard: 'publishing', params: announcement },
  'get /api/v1/attachments/{id}/{filename}': {
    shard: 'publishing',
    params: { id: 'attachment', filename: 'filename' },
  },
  'delete /api/v1/attachments/{id}': { shard: 'publishing', params: { id: 'doomedAttachment' } },
  'get /api/v1/announcements/{id}/deliveries': { shard: 'publishing', params: announcement },
  'post /api/v1/announcements/{id}/deliveries/retry': { shard: 'publishing', params: announcement },
  'post /api/v1/announcements/{id}/acknowledgement': { shard: 'publishing', params: { id: 'acknowledgeable' } },
  'get /api/v1/announcements/{id}/acknowledgements': { shard: 'publishing', params: { id: 'acknowledgeable' } },
  // ---- channels: channels, roles, organisations, webhooks
  'post /api/v1/channels': { shard: 'channels' },
  'get /api/v1/channels': { shard: 'channels' },
  'get /api/v1/channels/{slug}': { shard: 'channels', params: { slug: 'slug' } },
  'patch /api/v1/channels/{slug}': { shard: 'channels', params: { slug: 'slug' } },
  'delete /api/v1/channels/{slug}': { shard: 'channels', params: { slug: 'doomedSlug' } },
  'get /api/v1/channels/{slug}/roles': { shard: 'channels', params: { slug: 'slug' } },
  'put /api/v1/channels/{slug}/roles/{userId}': { shard: 'channels', params: { slug: 'slug', userId: 'user' } },
  'delete /api/v1/channels/{slug}/roles/{userId}': { shard: 'channels', params: { slug: 'slug', userId: 'user' } },
  'get /api/v1/organisations': { shard: 'channels' },
  'post /api/v1/organisations': { shard: 'channels' },
  'patch /api/v1/organisations/{code}': { shard: 'channels', params: { code: 'organisation' } },
  'post /api/v1/channels/{slug}/webhooks': { shard: 'channels', params: { slug: 'slug' } },
  'get /api/v1/channels/{slug}/webhooks': { shard: 'channels', params: { slug: 'slug' } },
  'get /api/v1/webhooks/{id}': { shard: 'channels', params: { id: 'webhook' } },
  'patch /api/v1/webhooks/{id}': { shard: 'channels', params: { id: 'webhook' } },
  'delete /api/v1/webhooks/{id}': { shard: 'channels', params: { id: 'doomedWebhook' } },
  'post /api/v1/webhooks/{id}/rotate-secret': { shard: 'channels', params: { id: 'webhook' } },
  'post /api/v1/webhooks/{id}/test': { shard: 'channels', params: { id: 'webhook' } },
  'get /api/v1/search': { shard: 'channels' },
  'get /api/v1/directory': { shard: 'channels' },
  // ---- subscribers: subscriptions, e-mail subscribers and their links, push, reading
  'get /api/v1/me/subscriptions': { shard: 'subscribers' },
  'put /api/v1/me/subscriptions/{slug}': { shard: 'subscribers', params: { slug: 'slug' } },
  'delete /api/v1/me/subscriptions/{slug}': { shard: 'subscribers', params: { slug: 'slug' } },
  'post /api/v1/channels/{slug}/email-subscriptions': { shard: 'subscribers', params: { slug: 'slug' } },
  'post /api/v1/channels/{slug}/email-subscriptions/import': { shard: 'subscribers', params: { slug: 'slug' } },
  'get /api/v1/admin/suppressions': { shard: 'subscribers', query: { email: 'suppressed' } },
  'get /unsubscribe': { shard: 'subscribers', query: { token: 'unsubscribeToken' } },
  'post /unsubscribe': { shard: 'subscribers', query: { token: 'unsubscribeToken' } },
  'get /subscriptions/confirm': { shard: 'subscribers', query: { token: 'confirmationToken' } },
  'post /subscriptions/confirm': { shard: 'subscribers', query: { token: 'confirmationToken' } },
  'get /api/v1/push/public-key': { shard: 'subscribers' },
  'get /api/v1/me/push-subscriptions': { shard: 'subscribers' },
  'post /api/v1/me/push-subscriptions': { shard: 'subscribers' },
  'delete /api/v1/me/push-subscriptions/{id}': { shard: 'subscribers', params: { id: 'pushSubscription' } },
  'get /api/v1/me/feed': { shard: 'subscribers', query: { channel: 'slug' } },
  'get /api/v1/me/unread': { shard: 'subscribers' },
  'put /api/v1/me/reads/{id}': { shard: 'subscribers', params: announcement },
  'delete /api/v1/me/reads/{id}': { shard: 'subscribers', params: announcement },
  'post /api/v1/me/reads': { shard: 'subscribers' },
  'put /api/v1/announcements/{id}/rating': { shard: 'subscribers', params: announcement },
  'delete /api/v1/announcements/{id}/rating': { shard: 'subscribers', params: announcement },
  // ---- accounts and operations: me, tokens, feed tokens, personal data, audit, queues, probes
  'get /api/v1/me': { shard: 'accounts' },
  'get /api/v1/me/export': { shard: 'accounts' },
  'delete /api/v1/me': { shard: 'accounts' },
  'get /api/v1/me/tokens': { shard: 'accounts' },
  'post /api/v1/me/tokens': { shard: 'accounts' },
  'delete /api/v1/me/tokens/{id}': { shard: 'accounts', params: { id: 'ownToken' } },
  'delete /api/v1/tokens/{id}': { shard: 'accounts', params: { id: 'otherToken' } },
  'get /api/v1/me/feed-tokens': { shard: 'accounts' },
  'post /api/v1/me/feed-tokens': { shard: 'accounts' },
  'delete /api/v1/me/feed-tokens/{id}': { shard: 'accounts', params: { id: 'feedToken' } },
  'get /api/v1/admin/audit': { shard: 'accounts', query: { actorUserId: 'user' } },
  'get /api/v1/admin/queues': { shard: 'accounts' },
  'get /api/v1/admin/queues/{name}/failed': { shard: 'accounts', params: { name: 'queue' } },
  'post /api/v1/live/tickets': { shard: 'accounts' },
  'get /healthz': { shard: 'accounts' },
  'get /readyz': { shard: 'accounts' },
  // ---- live: over real connections (tests/fuzz/live-input.test.ts)
  'get /api/v1/live': { shard: 'live' },
  'get /api/v1/live/sse': { shard: 'live' },
};

/**
 * Routes outside the document that take input from anyone, fuzzed the same way with the schema written here. The
 * feed routes are where the issue's third 500 was (`/feeds/channels/%00.atom`).
 */
const HIDDEN_OPERATIONS: Record<string, OperationSpec & { operation: JsonSchema }> = {
  'get /feeds/channels/{file}': {
    shard: 'publishing',
    params: { file: 'slug' },
    operation: feedOperation([{ in: 'path', name: 'file', required: true, schema: { type: 'string' } }]),
  },
  'get /feeds/public.atom': { shard: 'publishing', operation: feedOperation([]) },
  'get /feeds/me/{file}': {
    shard: 'publishing',
    operation: feedOperation([{ in: 'path', name: 'file', required: true, schema: { type: 'string' } }]),
  },
};

function feedOperation(parameters: JsonSchema[]): JsonSchema {
  const feedTypes = ['application/atom+xml', 'application/rss+xml', 'application/feed+json'];
  const feed = { content: Object.fromEntries(feedTypes.map((type) => [type, { schema: { type: 'string' } }])) };
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  return {
    parameters: [
      ...parameters,
      { in: 'query', name: 'cursor', schema: { type: 'string', 'x-text': 'identifier' } },
      { in: 'query', name: 'lang', schema: { enum: ['nb', 'nn', 'en'] } },
    ],
    responses: { 200: feed, 304: {}, 400: error, 404: error, 429: error, 503: error },
  };
}

const requestOf = (part: Partial<GeneratedRequest>): GeneratedRequest => ({
  params: {},
  query: {},
  rawQuery: '',
  headers: {},
  body: null,
  rawPath: false,
  ...part,
});

/**
 * Failures the fuzzer found, replayed first on every run: `[operation, request]` as the fuzzer printed it
 * (`generated:`). Each is fixed, and has its own case in tests/http/input-hygiene.test.ts ("found by the fuzzer").
 */
export const REGRESSIONS: [operation: string, request: GeneratedRequest][] = [
  // 500: PostgreSQL has no year 0 (fixed: date-time must be storable, src/http/validation.ts).
  ['get /api/v1/admin/audit', requestOf({ query: { from: '0000-01-01T00:00:00Z' } })],
  // 500: Ajv coerced the text to Infinity, which passed `integer` and skipped `maximum` (fixed: x-finite).
  ['get /api/v1/channels', requestOf({ query: { limit: '1e309' } })],
  // 500: no content type, so no body schema applied, and the handler read `addresses` of undefined.
  [
    'post /api/v1/channels/{slug}/email-subscriptions/import',
    requestOf({ params: { slug: 'fuzz' }, query: { language: 'en' } }),
  ],
  // 400 not documented on an operation without parameters (a control character in a header).
  [
    'get /api/v1/me',
    requestOf({ body: { contentType: 'application/json\u0000', payload: '{"title":"x","body":"y"}' } }),
  ],
  // 400 (empty JSON body) and 413 (too large) not documented on operations that take no body.
  ['post /api/v1/me/feed-tokens', requestOf({ body: { contentType: 'application/json', payload: '' } })],
  [
    'delete /api/v1/me/tokens/{id}',
    requestOf({
      params: { id: '00000000-0000-0000-0000-000000000000' },
      body: { contentType: 'application/json', payload: JSON.stringify({ title: 'x'.repeat(300 * 1024), body: 'y' }) },
    }),
  ],
  // 415 not documented on an operation that takes no body.
  ['post /api/v1/live/tickets', requestOf({ body: { contentType: 'text/plain', payload: 'x' } })],
  // 500s: an expirationTime of 1e308 (an integer to JSON Schema, an invalid Date) or in the year 46500 (a Date the
  // database driver refuses) (fixed: maximum MAX_DATE_MILLISECONDS).
  ...[1e308, 1405261343055774].map((expirationTime): [string, GeneratedRequest] => [
    'post /api/v1/me/push-subscriptions',
    requestOf({
      body: { contentType: 'application/json', payload: { json: { ...browserPushSubscription(), expirationTime } } },
    }),
  ]),
  // The link pages answered a malformed request with JSON, where they document their HTML page.
  ['get /unsubscribe', requestOf({ query: { token: '\ud800' } })],
  ['get /unsubscribe', requestOf({ headers: { 'x-request-id': 'a\u0000b' } })],
  ['post /subscriptions/confirm', requestOf({ body: { contentType: 'application/json', payload: '' } })],
];

// -------------------------------------------------------------------------------------------------------------

export interface GeneratedRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** Appended to the query string as it is (repeated keys, malformed escapes). */
  rawQuery: string;
  headers: Record<string, unknown>;
  body: { contentType?: string; payload?: string | Buffer | { json: unknown } } | null;
  /** Path parameters with `/` and `.` left as they are (path traversal), instead of percent-encoded. */
  rawPath: boolean;
}

/** Percent-encodes like encodeURIComponent, but a lone surrogate becomes its (invalid) UTF-8 bytes, as a client would send. */
export function percentEncode(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const next = value.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      const bytes = [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)];
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(value[i]!);
    }
  }
  return out;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Keeps what makes a path traversal (`/`, `.`, `\`) and encodes the rest. */
function rawPathSegment(value: string): string {
  return value
    .split('/')
    .map((part) => percentEncode(part).replace(/%5C/gi, '\\'))
    .join('/');
}

export interface BuiltRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export function buildRequest(world: FuzzWorld, key: string, request: GeneratedRequest): BuiltRequest {
  const [method = 'get', template = '/'] = key.split(' ');
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = asText(request.params[name]);
    return request.rawPath ? rawPathSegment(value) : percentEncode(value);
  });
  const query = Object.entries(request.query)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(asText(value))}`)
    .join('&');
  const search = [query, request.rawQuery].filter(Boolean).join('&');
  const headers: Record<string, string> = { authorization: `Bearer ${world.adminToken}` };
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = asText(value);
  let payload: string | Buffer | undefined;
  if (request.body) {
    if (request.body.contentType !== undefined) headers['content-type'] = request.body.contentType;
    const body = request.body.payload;
    payload = body && typeof body === 'object' && 'json' in body ? JSON.stringify(body.json) : body;
  }
  return { method: method.toUpperCase(), url: `${path}${search ? `?${search}` : ''}`, headers, payload };
}

function isDocumented(world: FuzzWorld, key: string): boolean {
  const [method = '', path = ''] = key.split(' ');
  return world.doc.paths?.[path]?.[method] !== undefined;
}

/** What the document says about an operation (or what HIDDEN_OPERATIONS writes down). */
function operationOf(world: FuzzWorld, key: string): JsonSchema {
  const hidden = HIDDEN_OPERATIONS[key];
  if (hidden) return hidden.operation;
  const [method = '', path = ''] = key.split(' ');
  const operation = world.doc.paths?.[path]?.[method];
  if (!operation) throw new Error(`${key} is not in the OpenAPI document`);
  return operation;
}

function schemaContext(world: FuzzWorld, hostility: number): SchemaContext {
  const pick = (pool: PoolName) => fc.constantFrom(...world.pools[pool]);
  const byField: Record<string, fc.Arbitrary<unknown>> = {
    channel: fc.oneof(pick('slug'), fc.constant('no-such-channel')),
    resolves: fc.oneof(pick('incident'), fc.uuid()),
    audience: fc.array(fc.constantFrom('UiO', 'UiB', 'NTNU', 'uio', 'Fuzz', 'Nowhere'), { maxLength: 3 }),
    url: fc.constantFrom('https://93.184.215.14/hook', 'http://192.0.2.10/hook', 'http://127.0.0.1:1/x', 'ftp://x/y'),
    endpoint: fc.constant(null).map(() => browserPushSubscription().endpoint),
    keys: fc.constant(null).map(() => browserPushSubscription().keys),
    userId: pick('user'),
    code: fc.stringMatching(/^[A-Z][A-Za-z0-9-]{1,10}$/),
    realm: fc.domain(),
    // Cursors come from a previous page; made-up ones are tried by the hostile leaves and the corpus.
    cursor: fc.constant(undefined),
  };
  return {
    resolve(ref) {
      const name = ref.replace('#/components/schemas/', '');
      return world.doc.components.schemas[name];
    },
    goodValues: (field) => byField[field],
    hostility,
  };
}

function parametersOf(operation: JsonSchema, place: string): JsonSchema[] {
  return ((operation.parameters ?? []) as JsonSchema[]).filter((p) => p.in === place);
}

/** Requests for one operation: schema-driven values, mostly valid, each part sometimes hostile. */
function requestArbitrary(world: FuzzWorld, key: string): fc.Arbitrary<GeneratedRequest> {
  const operation = operationOf(world, key);
  const spec = OPERATIONS[key] ?? HIDDEN_OPERATIONS[key]!;
  const context = schemaContext(world, 1);
  const pool = (name: PoolName | undefined) => (name ? fc.constantFrom(...world.pools[name]) : undefined);

  const params = Object.fromEntries(
    parametersOf(operation, 'path').map((p) => {
      const real = pool(spec.params?.[p.name]);
      const generated = arbitraryOf(p.schema, context, p.name);
      return [p.name, real ? fc.oneof({ weight: 6, arbitrary: real }, { weight: 3, arbitrary: generated }) : generated];
    }),
  );
  const queryParameters = parametersOf(operation, 'query');
  const queryModel: Record<string, fc.Arbitrary<unknown>> = Object.fromEntries(
    queryParameters.map((p) => {
      const real = pool(spec.query?.[p.name]);
      const generated = arbitraryOf(p.schema, context, p.name);
      const value = real ? fc.oneof({ weight: 4, arbitrary: real }, { weight: 3, arbitrary: generated }) : generated;
      // An optional parameter is left out more often than not, so that the others are tried on their own too.
      return [
        p.name,
        p.required
          ? value
          : fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: value }),
      ];
    }),
  );
  const query = fc.record(queryModel);
  const headerParameters = parametersOf(operation, 'header');
  const docHeaders = fc.record(
    Object.fromEntries(
      headerParameters.map((p) => [
        p.name,
        fc.oneof(
          { weight: 4, arbitrary: arbitraryOf(p.schema, context, p.name) },
          { weight: 1, arbitrary: fc.constantFrom(...NASTY_HEADER_VALUES) },
        ),
      ]),
    ),
    { requiredKeys: [] },
  );
  const readHeader = fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...READ_HEADERS), fc.constantFrom(...NASTY_HEADER_VALUES)) },
  );
  const headers = fc
    .tuple(docHeaders, readHeader)
    .map(([declared, extra]) => (extra ? { ...declared, [extra[0]]: extra[1] } : declared));
  const rawQuery = fc.oneof(
    { weight: 12, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('extra=1', '&&', '=x', 'limit=1&limit=2', '%FF=1', 'a=%', 'q=%C3%28', 'x=%00'),
    },
  );
  return fc.record({
    params: fc.record(params, { requiredKeys: Object.keys(params) }),
    query,
    rawQuery,
    headers,
    body: bodyArbitrary(operation, context),
    // One request in eight puts path parameters in raw (traversal).
    rawPath: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  });
}

function bodyArbitrary(operation: JsonSchema, context: SchemaContext): fc.Arbitrary<GeneratedRequest['body']> {
  const content = (operation.requestBody?.content ?? {}) as Record<string, { schema?: JsonSchema }>;
  const types = Object.keys(content);
  const jsonSchema = content['application/json']?.schema;
  const nastyJson = fc.record({
    contentType: fc.constant('application/json'),
    payload: fc.constantFrom(...NASTY_JSON_BODIES),
  });
  const nothing = fc.constant(null);
  if (types.length === 0) {
    return fc.oneof(
      { weight: 4, arbitrary: nothing },
      {
        weight: 1,
        arbitrary: fc.record({
          contentType: fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
          payload: fc.constantFrom(...NASTY_TEXT_BODIES),
        }),
      },
      { weight: 1, arbitrary: nastyJson },
    );
  }
  const options: { weight: number; arbitrary: fc.Arbitrary<GeneratedRequest['body']> }[] = [
    { weight: 1, arbitrary: nothing },
    {
      weight: 1,
      arbitrary: fc.record({
        contentType: fc.constantFrom(...WRONG_CONTENT_TYPES),
        payload: fc.oneof(fc.constantFrom(...NASTY_TEXT_BODIES), fc.constant('{"title":"x","body":"y"}')),
      }),
    },
  ];
  if (jsonSchema) {
    options.push(
      {
        weight: 10,
        arbitrary: arbitraryOf(jsonSchema, context).map((json) => ({
          contentType: 'application/json',
          payload: { json },
        })),
      },
      { weight: 2, arbitrary: nastyJson },
    );
  }
  const others = types.filter((type) => type !== 'application/json');
  if (others.length > 0) {
    options.push({
      weight: jsonSchema ? 3 : 10,
      arbitrary: fc.record({
        contentType: fc.constantFrom(...others),
        payload: fc.oneof(
          fc.constantFrom(...NASTY_TEXT_BODIES),
          fc
            .array(fc.oneof(fc.emailAddress(), fc.constantFrom(...NASTY_STRINGS)), { maxLength: 6 })
            .map((lines) => lines.join('\n')),
        ),
      }),
    });
  }
  return fc.oneof(...options);
}

// -------------------------------------------------------------------------------------------------------------
// Checking answers.

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

let requestCount = 1;

async function send(world: FuzzWorld, built: BuiltRequest): Promise<Answer> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  try {
    const response = await Promise.race([
      world.app.inject({
        method: built.method as 'GET',
        url: built.url,
        headers: built.headers,
        // A client address per request, so per-address limits (e-mail subscriptions: 30 an hour) stay out of the way.
        remoteAddress: `10.${(requestCount >> 16) & 255}.${(requestCount >> 8) & 255}.${requestCount++ & 255}`,
        ...(built.payload !== undefined ? { payload: built.payload } : {}),
      }),
      timeout,
    ]);
    const type = response.headers['content-type'];
    return {
      status: response.statusCode,
      contentType: (typeof type === 'string' ? type : '').split(';')[0]!.trim().toLowerCase(),
      body: response.rawPayload,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** One Ajv per document (the components added once), and one compiled validator per operation and status. */
const responseAjv = new WeakMap<object, { ajv: Ajv2020; validators: Map<string, ValidateFunction> }>();

function responseValidator(world: FuzzWorld, pointer: string, schema: JsonSchema): ValidateFunction {
  let entry = responseAjv.get(world.doc);
  if (!entry) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s));
    ajv.addFormat('date', /^\d{4}-\d\d-\d\d$/);
    ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
    ajv.addFormat('uri', (s: string) => URL.canParse(s));
    // A response names things the way a request must: a slug in a response is a valid slug.
    ajv.addKeyword({
      keyword: 'x-text',
      type: 'string',
      validate: (kind: unknown, data: string) => !isTextKind(kind) || textProblem(data, kind) === null,
    });
    ajv.addSchema({ $id: DOCUMENT_ID, components: world.doc.components });
    entry = { ajv, validators: new Map() };
    responseAjv.set(world.doc, entry);
  }
  let validate = entry.validators.get(pointer);
  if (!validate) {
    validate = entry.ajv.compile(rebase(schema));
    entry.validators.set(pointer, validate);
  }
  return validate;
}

const DOCUMENT_ID = 'urn:meldingskanal:openapi';

/** `#/components/…` references point into the document, added to Ajv as DOCUMENT_ID. */
function rebase(schema: JsonSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOCUMENT_ID}#/components/`));
}

/** What is wrong with an answer, or null. */
function checkAnswer(world: FuzzWorld, key: string, answer: Answer): string | null {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`;
  const operation = operationOf(world, key);
  const documented = operation.responses?.[String(answer.status)] ?? operation.responses?.default;
  if (!documented) return `answered ${answer.status}, which the operation does not document`;
  const content = documented.content as Record<string, { schema?: JsonSchema }> | undefined;
  if (!content || answer.status === 204 || answer.status === 304) return null;
  const declared = content[answer.contentType];
  if (!declared) {
    return `answered ${answer.status} as ${answer.contentType || 'no content type'}, documented: ${Object.keys(content).join(', ')}`;
  }
  if (answer.contentType !== 'application/json' || !declared.schema) return null;
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return `answered ${answer.status} with a body that is not JSON`;
  }
  const validate = responseValidator(world, `${key} ${answer.status}`, declared.schema);
  if (!validate(body)) {
    return `answered ${answer.status} with a body its schema refuses: ${JSON.stringify(validate.errors?.slice(0, 3))}`;
  }
  return null;
}

function describeRequest(built: BuiltRequest): string {
  const payload =
    built.payload === undefined
      ? ''
      : Buffer.isBuffer(built.payload)
        ? ` <${built.payload.length} bytes: ${built.payload.subarray(0, 80).toString('hex')}>`
        : ` ${JSON.stringify(built.payload.slice(0, 300))}${built.payload.length > 300 ? `… (${built.payload.length} chars)` : ''}`;
  const { authorization: _, ...headers } = built.headers;
  return `${built.method} ${built.url.slice(0, 300)} ${JSON.stringify(headers).slice(0, 300)}${payload}`;
}

const countsAfterRefusal = new WeakMap<FuzzWorld, Record<string, number>>();

/** With FUZZ_STATS=1, each operation's statuses and time are printed: to see that requests get past validation. */
const STATS = process.env.FUZZ_STATS === '1';
const stats = new Map<string, { statuses: Record<number, number>; sendMs: number; countMs: number }>();

/** Sends one request and checks everything; throws with the request and the problem. */
async function probe(world: FuzzWorld, key: string, request: GeneratedRequest): Promise<void> {
  const built = buildRequest(world, key, request);
  const t0 = performance.now();
  // After a refusal nothing was written (or the check below failed), so its counts are the next request's "before".
  const before = countsAfterRefusal.get(world) ?? (await rowCounts(world));
  countsAfterRefusal.delete(world);
  const t1 = performance.now();
  const answer = await send(world, built);
  const t2 = performance.now();
  if (STATS) {
    const entry = stats.get(key) ?? { statuses: {}, sendMs: 0, countMs: 0 };
    entry.statuses[answer.status] = (entry.statuses[answer.status] ?? 0) + 1;
    entry.sendMs += t2 - t1;
    entry.countMs += t1 - t0;
    stats.set(key, entry);
  }
  let problem = checkAnswer(world, key, answer);
  if (!problem && answer.status >= 400) {
    const after = await rowCounts(world);
    const audited = answer.status === 401 || answer.status === 403;
    const changed = world.tables.filter((t) => before[t] !== after[t] && !(audited && t === 'AuditLog'));
    if (changed.length > 0) {
      problem = `refused with ${answer.status}, yet rows changed in ${changed
        .map((t) => `${t} (${before[t]} → ${after[t]})`)
        .join(', ')}`;
    } else if (!audited) {
      countsAfterRefusal.set(world, after);
    }
  }
  if (problem) {
    throw new Error(`${key}: ${problem}\n  request: ${describeRequest(built)}\n  generated: ${safeJson(request)}`);
  }
}

function safeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v)).slice(0, 2000);
}

/**
 * The fixed corpus for one operation: each hostile string once, in one position (path parameter, query parameter,
 * header or body field) by turns, the rest of the request valid; and each hostile body and content type once.
 */
function corpusRequests(world: FuzzWorld, key: string): GeneratedRequest[] {
  const operation = operationOf(world, key);
  const base = fc.sample(requestArbitraryValid(world, key), { numRuns: 1, seed: SEED })[0]!;
  const positions: ((value: string) => GeneratedRequest)[] = [];
  for (const p of parametersOf(operation, 'path')) {
    positions.push((v) => ({ ...base, params: { ...base.params, [p.name]: v } }));
  }
  for (const p of parametersOf(operation, 'query'))
    positions.push((v) => ({ ...base, query: { ...base.query, [p.name]: v } }));
  for (const p of parametersOf(operation, 'header')) {
    positions.push((v) => ({ ...base, headers: { ...base.headers, [p.name]: v } }));
  }
  const json =
    base.body?.payload && typeof base.body.payload === 'object' && 'json' in base.body.payload
      ? (base.body.payload.json as Record<string, unknown>)
      : undefined;
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const field of Object.keys(json)) {
      positions.push((v) => ({
        ...base,
        body: { contentType: 'application/json', payload: { json: { ...json, [field]: v } } },
      }));
    }
  }
  const requests: GeneratedRequest[] = [];
  if (positions.length > 0) {
    NASTY_STRINGS.forEach((value, i) => {
      requests.push(positions[i % positions.length]!(value));
    });
  }
  // Every hostile body and content type where the operation takes a body; a few where it takes none.
  const takesBody = operation.requestBody !== undefined;
  const bodies = takesBody ? NASTY_JSON_BODIES : NASTY_JSON_BODIES.filter((_, i) => i % 5 === 0);
  for (const payload of bodies) requests.push({ ...base, body: { contentType: 'application/json', payload } });
  const types = takesBody ? WRONG_CONTENT_TYPES : WRONG_CONTENT_TYPES.filter((_, i) => i % 5 === 0);
  for (const contentType of types) {
    requests.push({ ...base, body: { contentType, payload: '{"title":"x","body":"y"}' } });
  }
  for (const [i, name] of READ_HEADERS.entries()) {
    requests.push({
      ...base,
      headers: { ...base.headers, [name]: NASTY_HEADER_VALUES[i % NASTY_HEADER_VALUES.length] },
    });
  }
  return requests;
}

/** A request with every part valid (no hostile leaves), to plant corpus values in. */
function requestArbitraryValid(world: FuzzWorld, key: string): fc.Arbitrary<GeneratedRequest> {
  const operation = operationOf(world, key);
  const spec = OPERATIONS[key] ?? HIDDEN_OPERATIONS[key]!;
  const context = schemaContext(world, 0);
  const params = Object.fromEntries(
    parametersOf(operation, 'path').map((p) => {
      const name = spec.params?.[p.name];
      return [p.name, name ? fc.constantFrom(...world.pools[name]) : arbitraryOf(p.schema, context, p.name)];
    }),
  );
  const jsonSchema = operation.requestBody?.content?.['application/json']?.schema;
  return fc.record({
    params: fc.record(params),
    query: fc.constant({}),
    rawQuery: fc.constant(''),
    headers: fc.constant({}),
    body: jsonSchema
      ? arbitraryOf(jsonSchema, context).map((json) => ({ contentType: 'application/json', payload: { json } }))
      : fc.constant(null),
    rawPath: fc.constant(false),
  });
}

/** Defines the tests of one shard: a world, then per operation the regressions, the corpus and generated requests. */
export function fuzzShard(shard: Exclude<Shard, 'live'>): void {
  let world: FuzzWorld;
  beforeAll(async () => {
    world = await createFuzzWorld();
  });
  afterAll(async () => {
    await world?.close();
    if (STATS) {
      for (const [key, entry] of stats) {
        console.log(
          `${key}: ${JSON.stringify(entry.statuses)} send ${Math.round(entry.sendMs)} ms, counts ${Math.round(entry.countMs)} ms`,
        );
      }
    }
  });

  const keys = [...Object.entries(OPERATIONS), ...Object.entries(HIDDEN_OPERATIONS)]
    .filter(([, spec]) => spec.shard === shard)
    .map(([key]) => key);

  describe(`contract fuzzing: ${shard} (seed ${SEED}, ${RUNS} generated requests per operation)`, () => {
    for (const key of keys) {
      it(key, async (test) => {
        // An operation listed here but missing from the document fails tests/fuzz/coverage.test.ts, once.
        if (!HIDDEN_OPERATIONS[key] && !isDocumented(world, key)) test.skip();
        for (const [operation, request] of REGRESSIONS) if (operation === key) await probe(world, key, request);
        for (const request of corpusRequests(world, key)) await probe(world, key, request);
        await fc.assert(
          fc.asyncProperty(requestArbitrary(world, key), (request) => probe(world, key, request)),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
      });
    }
  });
}
