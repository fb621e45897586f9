/**
 * The OpenAPI 3.1 document, generated from the routes' own TypeBox schemas (so it cannot drift from what the API
 * validates and sends), served at GET /api/openapi.json, with Swagger UI at /api/docs. Register this plugin before
 * any route: @fastify/swagger collects routes as they are added.
 */
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { POLICY } from '../policy.js';
import { ErrorBody } from '../schemas/common.js';
import { webhookEventDocs } from '../schemas/webhook-events.js';
import { docsCsp } from './security-headers.js';

export interface OpenApiPluginOptions {
  /** The address people reach the service at (config.http.publicUrl): the document's server. */
  publicUrl: string;
}

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';
/** The version of API v1's contract, not of the software. */
export const API_DOCUMENT_VERSION = '1.0.0';

type OpenApiWebhooks = Extract<
  NonNullable<FastifyDynamicSwaggerOptions['openapi']>,
  { webhooks?: unknown }
>['webhooks'];

type JsonSchema = { [key: string]: unknown; properties?: Record<string, JsonSchema>; required?: string[] };

/** `schema` without the properties that have a default in its `required` list, at every level of `properties`. */
function withDefaultsOptional(schema: JsonSchema): JsonSchema {
  if (!schema || typeof schema !== 'object' || !schema.properties) return schema;
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => [name, withDefaultsOptional(property)]),
  );
  const required = schema.required?.filter((name) => schema.properties?.[name]?.default === undefined);
  return { ...schema, properties, ...(required ? { required } : {}) };
}

/**
 * A route's schema as callers see it. A request property with a default (`limit`, `archive`…) is listed as required
 * in TypeBox, so that handlers get it typed as always set; but a caller may leave it out, since validation fills in
 * the default. The document says so, or generated clients would demand it on every call. Validation is untouched:
 * this is a copy.
 */
function callerView(schema: FastifySchema | undefined): FastifySchema {
  if (!schema) return {};
  const view = { ...schema } as Record<string, unknown>;
  for (const part of ['querystring', 'body', 'headers'] as const) {
    if (view[part]) view[part] = withDefaultsOptional(view[part] as JsonSchema);
  }
  return view as FastifySchema;
}

async function openApiPlugin(app: FastifyInstance, options: OpenApiPluginOptions): Promise<void> {
  // Shared by every route's error responses; appears once, as components.schemas.Error.
  app.addSchema(ErrorBody);

  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, so TypeBox's `const` and `type: 'null'` pass through unchanged.
      openapi: '3.1.0',
      info: {
        title: 'Meldingskanal API',
        version: API_DOCUMENT_VERSION,
        description:
          'Announcements of the BOTT collaboration (UiB, UiO, UiT, NTNU). Reads of public channels need no token; ' +
          'everything else takes `Authorization: Bearer <api token>` (create one with POST /api/v1/me/tokens while ' +
          'signed in, or with `npm run cli`) or the signed-in session. Each operation states who may call it in ' +
          '`x-policy`: public, operational, signedIn, self (your own resources), admin, or channel with ' +
          'need read/publish/manage. Errors are `{ "error": { "code", "message", "details"? }, "requestId" }`. ' +
          'Lists are keyset-paginated: pass `nextCursor` back as `cursor`.',
      },
      servers: [{ url: options.publicUrl }],
      tags: [
        { name: 'channels', description: 'Announcement streams' },
        { name: 'announcements', description: 'Items published in a channel' },
        { name: 'me', description: 'The signed-in user (session cookie or API token)' },
        { name: 'subscriptions', description: "The signed-in user's subscriptions" },
        { name: 'reading', description: 'My feed, read state and unread counts; ratings' },
        { name: 'live', description: 'Live updates over WebSocket (GET /api/v1/live)' },
        { name: 'organisations', description: 'Member organisations and their Feide realms' },
        { name: 'tokens', description: 'API tokens for automation' },
        {
          name: 'webhooks',
          description:
            "A channel's webhooks: announcements POSTed to other systems (Standard Webhooks signatures, Slack, Teams)",
        },
        {
          name: 'feeds',
          description:
            'Feeds (RSS 2.0, Atom, JSON Feed 1.1) at /feeds/channels/{slug}.(rss|atom|json) for public channels and ' +
            '/feeds/public.(rss|atom|json) for all of them; personal feed URLs for internal and restricted channels',
        },
        { name: 'personal data', description: 'What the service holds about me: export and erasure' },
        { name: 'admin', description: 'For administrators: the delivery queues and the ledger' },
        { name: 'audit', description: 'For administrators: who did what, and denied attempts' },
        { name: 'e-mail links', description: 'The pages behind the links in e-mails (for people, HTML)' },
        {
          name: 'operations',
          description:
            'Probes for orchestrators. Prometheus metrics are not here: they are served on METRICS_PORT (README)',
        },
      ],
      // What webhooks POST to their receivers (OpenAPI 3.1), one entry per event type. The cast: openapi-types does not
      // know TypeBox's schema types, though both are JSON Schema 2020-12, which OpenAPI 3.1 takes as is.
      webhooks: webhookEventDocs() as unknown as OpenApiWebhooks,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (mkt_…)' },
        },
      },
    },
    transform: ({ schema, url }) => ({ schema: callerView(schema), url }),
    // Name shared schemas by their $id (components.schemas.Error), not def-0.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });

  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    // Its own Content-Security-Policy (security-headers.ts), replacing the app pages' one on the docs' responses.
    staticCSP: docsCsp(options.publicUrl),
    // The validator badge would load an image from validator.swagger.io, sending it our document's address.
    uiConfig: { validatorUrl: null },
  });

  // Swagger UI's own routes (under DOCS_PATH) cannot take a policy: app.ts gives them `public` by prefix.
  app.get(OPENAPI_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async () => app.swagger());
}

export default fp(openApiPlugin, { name: 'meldingskanal-openapi', fastify: '5.x' });
