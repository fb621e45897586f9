/** /api/v1/me/subscriptions: the signed-in user's own subscriptions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Db } from '../../db/prisma.js';
import { deleteMySubscription, listMySubscriptions, putMySubscription } from '../../services/subscriptions.js';
import { POLICY } from '../policy.js';
import { ChannelParams } from '../schemas/channels.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import { PutSubscriptionBody, Subscription, SubscriptionList } from '../schemas/subscriptions.js';

export interface SubscriptionRoutesOptions {
  db: Db;
}

export const subscriptionRoutes: FastifyPluginAsyncTypebox<SubscriptionRoutesOptions> = async (app, { db }) => {
  app.get(
    '/me/subscriptions',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['subscriptions'],
        operationId: 'listMySubscriptions',
        summary: 'List my subscriptions',
        security: BEARER_REQUIRED,
        response: { 200: SubscriptionList, ...errorResponses() },
      },
    },
    async (request) => ({ items: await listMySubscriptions({ db }, request.actor) }),
  );

  app.put(
    '/me/subscriptions/:slug',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['subscriptions'],
        operationId: 'subscribeToChannel',
        summary: 'Subscribe to a channel, or change a subscription',
        description:
          'Creates the subscription (201) or changes the given fields of the existing one (200). Only channels the ' +
          'caller may read; others answer 404. Send `{}` to subscribe with the defaults.',
        security: BEARER_REQUIRED,
        params: ChannelParams,
        body: PutSubscriptionBody,
        response: {
          200: Subscription,
          201: Type.Object(Subscription.properties, { additionalProperties: false, description: 'Created' }),
          ...errorResponses(...BODY_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      const { subscription, created } = await putMySubscription(
        { db },
        request.actor,
        request.params.slug,
        request.body,
      );
      return reply.code(created ? 201 : 200).send(subscription);
    },
  );

  app.delete(
    '/me/subscriptions/:slug',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['subscriptions'],
        operationId: 'unsubscribeFromChannel',
        summary: 'Unsubscribe from a channel',
        description: '404 when there was no subscription.',
        security: BEARER_REQUIRED,
        params: ChannelParams,
        response: { 204: Type.Null({ description: 'Unsubscribed' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await deleteMySubscription({ db }, request.actor, request.params.slug);
      return reply.code(204).send(null);
    },
  );
};
