/**
 * Web push: the VAPID public key and the signed-in user's browsers (/api/v1/push/public-key,
 * /api/v1/me/push-subscriptions), and the service worker at /sw.js that shows the messages.
 */
import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { Db } from '../../db/prisma.js';
import { AppError } from '../../domain/errors.js';
import { SERVICE_WORKER_SOURCE } from '../../push/service-worker.js';
import {
  deleteMyPushSubscription,
  listMyPushSubscriptions,
  registerPushSubscription,
} from '../../services/push-subscriptions.js';
import { POLICY } from '../policy.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import {
  PushPublicKey,
  PushSubscription,
  PushSubscriptionList,
  PushSubscriptionParams,
  RegisterPushSubscriptionBody,
} from '../schemas/push.js';

export interface PushRoutesOptions {
  db: Db;
  config: Pick<Config, 'push'>;
}

export const SERVICE_WORKER_PATH = '/sw.js';

export const pushRoutes: FastifyPluginAsyncTypebox<PushRoutesOptions> = async (app, { db, config }) => {
  const allowedHosts = config.push.serviceHosts;

  app.get(
    '/push/public-key',
    {
      config: { policy: POLICY.signedIn },
      schema: {
        tags: ['subscriptions'],
        operationId: 'getPushPublicKey',
        summary: 'The web push (VAPID) public key',
        description:
          "For the browser's `pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })`. " +
          '404 `push_disabled` when this server has no VAPID keys configured (web push is off).',
        security: BEARER_REQUIRED,
        response: { 200: PushPublicKey, ...errorResponses(404) },
      },
    },
    async () => {
      if (!config.push.vapid) throw new AppError('push_disabled', 'Web push is not configured on this server');
      return { publicKey: config.push.vapid.publicKey };
    },
  );

  app.get(
    '/me/push-subscriptions',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['subscriptions'],
        operationId: 'listMyPushSubscriptions',
        summary: 'List my browsers that receive web push',
        security: BEARER_REQUIRED,
        response: { 200: PushSubscriptionList, ...errorResponses() },
      },
    },
    async (request) => ({ items: await listMyPushSubscriptions({ db }, request.actor) }),
  );

  app.post(
    '/me/push-subscriptions',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['subscriptions'],
        operationId: 'registerPushSubscription',
        summary: 'Register this browser for web push',
        description:
          "Send the browser's `PushSubscription.toJSON()` as it is. 201 for a browser new to you, 200 when it was " +
          'registered already (keys and lastSeenAt are refreshed: register again on every visit, or it expires). ' +
          'An endpoint registered by someone else moves to you: the browser changed hands. Which channels push to ' +
          'it is chosen per subscription (`push` in PUT /me/subscriptions/{slug}). 400 for an endpoint that is not ' +
          'https at an accepted push service, or keys of the wrong length.',
        security: BEARER_REQUIRED,
        body: RegisterPushSubscriptionBody,
        response: {
          200: PushSubscription,
          201: Type.Object(PushSubscription.properties, { additionalProperties: false, description: 'Registered' }),
          ...errorResponses(...BODY_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { subscription, created } = await registerPushSubscription(
        { db, allowedHosts },
        request.actor,
        request.body,
        request.headers['user-agent'],
      );
      return reply.code(created ? 201 : 200).send(subscription);
    },
  );

  app.delete(
    '/me/push-subscriptions/:id',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['subscriptions'],
        operationId: 'deletePushSubscription',
        summary: 'Stop web push to one of my browsers',
        description: '404 for an id that is not yours, like one that does not exist.',
        security: BEARER_REQUIRED,
        params: PushSubscriptionParams,
        response: { 204: Type.Null({ description: 'Removed' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await deleteMyPushSubscription({ db }, request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );
};

/**
 * GET /sw.js. At the root so its scope can be the whole origin (a worker's scope is at most its own directory; the
 * `Service-Worker-Allowed: /` header says the same explicitly). `no-cache`: browsers check for a new version on every
 * registration, so a fix reaches them at once. The app's CSP header applies to the worker itself; it needs nothing
 * beyond 'self'.
 */
export const serviceWorkerRoute: FastifyPluginAsync = async (app) => {
  app.get(SERVICE_WORKER_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('service-worker-allowed', '/')
      .header('cache-control', 'no-cache')
      .send(SERVICE_WORKER_SOURCE),
  );
};
