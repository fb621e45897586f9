/**
 * Webhooks of a channel: /api/v1/channels/:slug/webhooks (register, list) and /api/v1/webhooks/:id (read, change,
 * delete, rotate the secret, send a test). The channel's owners and administrators; see src/services/webhooks.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { Db } from '../../db/prisma.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from '../../services/webhooks.js';
import { parseAllowlist } from '../../webhooks/addresses.js';
import { createWebhookHttpClient } from '../../webhooks/http-client.js';
import { callerOf } from '../caller.js';
import { sensitiveRouteLimit } from '../plugins/rate-limit.js';
import { POLICY } from '../policy.js';
import { ChannelParams } from '../schemas/channels.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import {
  CreateWebhookBody,
  UpdateWebhookBody,
  Webhook,
  WebhookList,
  WebhookParams,
  WebhookTestResult,
  WebhookWithSecret,
} from '../schemas/webhooks.js';

export interface WebhookRoutesOptions {
  db: Db;
  config: Config;
}

const WHO = "The channel's owners and administrators.";
const HIDDEN_CHANNEL = 'A channel the caller may not read answers 404, like one that does not exist.';
const HIDDEN_WEBHOOK =
  'A webhook answers 404 to everyone who may not manage its channel, like one that does not exist.';

export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { db, config }) => {
  const deps = {
    db,
    publicUrl: config.http.publicUrl,
    client: createWebhookHttpClient({
      allowlist: parseAllowlist(config.webhooks.allowedHosts),
      timeoutMs: config.webhooks.timeoutMs,
    }),
  };

  app.post(
    '/channels/:slug/webhooks',
    {
      // Registration resolves a host name the caller chose: limited like other sensitive operations.
      config: { policy: POLICY.channelManage, rateLimit: sensitiveRouteLimit(config) },
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhook',
        summary: 'Register a webhook',
        description:
          'Announcements for everyone in this channel are then POSTed to the URL when published. The answer carries ' +
          `the signing secret, which is shown only here (and on rotation). ${WHO} ${HIDDEN_CHANNEL}`,
        security: BEARER_REQUIRED,
        params: ChannelParams,
        body: CreateWebhookBody,
        response: {
          201: Type.Object(WebhookWithSecret.properties, { additionalProperties: false, description: 'Registered' }),
          ...errorResponses(...BODY_ERRORS, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const created = await createWebhook(deps, callerOf(request), request.params.slug, request.body);
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/channels/:slug/webhooks',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['webhooks'],
        operationId: 'listChannelWebhooks',
        summary: "List a channel's webhooks",
        description: `Without their secrets. ${WHO} ${HIDDEN_CHANNEL}`,
        security: BEARER_REQUIRED,
        params: ChannelParams,
        response: { 200: WebhookList, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => ({ items: await listWebhooks(deps, callerOf(request), request.params.slug) }),
  );

  app.get(
    '/webhooks/:id',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhook',
        summary: 'Read a webhook',
        description: `Without its secret. ${WHO} ${HIDDEN_WEBHOOK}`,
        security: BEARER_REQUIRED,
        params: WebhookParams,
        response: { 200: Webhook, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => getWebhook(deps, callerOf(request), request.params.id),
  );

  app.patch(
    '/webhooks/:id',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhook',
        summary: 'Change a webhook',
        description: `URL, format, description, or switch it on or off. ${WHO} ${HIDDEN_WEBHOOK}`,
        security: BEARER_REQUIRED,
        params: WebhookParams,
        body: UpdateWebhookBody,
        response: { 200: Webhook, ...errorResponses(...BODY_ERRORS, 403, 404) },
      },
    },
    async (request) => updateWebhook(deps, callerOf(request), request.params.id, request.body),
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook',
        description: `Its pending deliveries are not sent. ${WHO} ${HIDDEN_WEBHOOK}`,
        security: BEARER_REQUIRED,
        params: WebhookParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteWebhook(deps, callerOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: "Replace a webhook's signing secret",
        description: `The old secret stops at once; the new one is shown only in this answer. ${WHO} ${HIDDEN_WEBHOOK}`,
        security: BEARER_REQUIRED,
        params: WebhookParams,
        response: { 200: WebhookWithSecret, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => rotateWebhookSecret(deps, callerOf(request), request.params.id),
  );

  app.post(
    '/webhooks/:id/test',
    {
      // Each call makes this server send a request to the caller's URL: limited like other sensitive operations.
      config: { policy: POLICY.channelManage, rateLimit: sensitiveRouteLimit(config) },
      schema: {
        tags: ['webhooks'],
        operationId: 'testWebhook',
        summary: 'Send a test event to a webhook',
        description:
          'Sends a signed `webhook.test` event now, in the webhook’s format, and reports the answer (also for a ' +
          `switched-off webhook; its failure count is not changed). ${WHO} ${HIDDEN_WEBHOOK}`,
        security: BEARER_REQUIRED,
        params: WebhookParams,
        response: { 200: WebhookTestResult, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => testWebhook(deps, callerOf(request), request.params.id),
  );
};
