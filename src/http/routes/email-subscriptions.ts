/**
 * E-mail subscribers without an account (src/services/email-subscriptions.ts):
 *
 * - `POST /api/v1/channels/:slug/email-subscriptions` — anyone asks for a public channel's announcements by e-mail
 *   (the channel's page or widget). Always the same 202, whatever the state of the address. Limited per client address
 *   (EMAIL_SUBSCRIBE_PER_IP_PER_HOUR) on top of the global limits, and per address by the service.
 * - `POST /api/v1/channels/:slug/email-subscriptions/import` — the channel's owners and administrators import a list
 *   (JSON, or text/csv / text/plain with one address per line).
 * - `GET /api/v1/admin/suppressions?email=` — administrators look up one address on the suppression list.
 * - `GET /subscriptions/confirm?token=…` shows a page with a confirm button; `POST` (the button) confirms. Like the
 *   unsubscribe pages: a GET never changes anything (mail scanners follow links), the signed token is the authority,
 *   and a token that is not valid gets one and the same 400 page that reveals nothing.
 */
import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../db/prisma.js';
import { AppError, isAppError } from '../../domain/errors.js';
import type { EmailMode, Language } from '../../domain/types.js';
import { resolveSigningKeys, type VerificationKeys } from '../../mail/signing-keys.js';
import {
  confirmByToken,
  findConfirmationTarget,
  importEmailSubscriptions,
  importEntriesFromText,
  MAX_IMPORT_ADDRESSES,
  requestEmailSubscription,
} from '../../services/email-subscriptions.js';
import { findSuppression } from '../../services/suppression.js';
import { type EmailLinkState, type EmailLinkWeb, renderEmailLinkPage } from '../../web/pages/email-link.js';
import type { AppDeps } from '../app.js';
import { callerOf } from '../caller.js';
import { badRequestsAsPage, linkPageResponses, linkTokenOf, sendLinkPage } from '../link-pages.js';
import { utf8Text } from '../plugins/input-hygiene.js';
import { clientAddressKey } from '../plugins/rate-limit.js';
import { POLICY } from '../policy.js';
import { ChannelParams } from '../schemas/channels.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, BODY_ERRORS, errorResponses, NO_CREDENTIALS } from '../schemas/common.js';
import {
  EmailSubscriptionAccepted,
  EmailSubscriptionBody,
  ImportJsonBody,
  ImportQuery,
  ImportResult,
  ImportText,
  Suppression,
  SuppressionQuery,
} from '../schemas/email-subscriptions.js';
import { negotiateLanguage } from './unsubscribe.js';

/**
 * Requests per client address and hour to the public subscription form. Far below the global limits: each request
 * can send an e-mail to an address of the caller's choosing. A campus NAT shares it, but a person subscribes once.
 */
export const EMAIL_SUBSCRIBE_PER_IP_PER_HOUR = 30;

/** The one answer to every acceptable subscription request. */
export const EMAIL_SUBSCRIPTION_ACCEPTED = {
  message:
    'If this address can be subscribed, a confirmation e-mail is on its way. Nothing is sent to it until the link ' +
    'in that e-mail is used.',
} as const;

/** 5,000 addresses of at most 254 characters, with JSON's quotes and commas. */
const IMPORT_BODY_LIMIT = MAX_IMPORT_ADDRESSES * 260 + 64 * 1024;

export interface EmailSubscriptionRoutesOptions {
  deps: Pick<AppDeps, 'db' | 'queues'>;
}

export const emailSubscriptionRoutes: FastifyPluginAsyncTypebox<EmailSubscriptionRoutesOptions> = async (
  app,
  { deps: appDeps },
) => {
  const deps = { db: appDeps.db, confirmationQueue: appDeps.queues.confirmation, logger: app.log };

  // Imports may come as text, one address per line (API v1 otherwise speaks JSON only). Inside this plugin only.
  // Read as bytes: a file that is not UTF-8 (a spreadsheet's UTF-16 or Latin-1 export) is refused, not mangled.
  app.addContentTypeParser(
    ['text/plain', 'text/csv'],
    { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT },
    async (_request: unknown, body: Buffer) => utf8Text(body),
  );

  app.post(
    '/channels/:slug/email-subscriptions',
    {
      config: {
        policy: POLICY.public,
        rateLimit: { max: EMAIL_SUBSCRIBE_PER_IP_PER_HOUR, timeWindow: 3_600_000, keyGenerator: clientAddressKey },
      },
      schema: {
        tags: ['subscriptions'],
        operationId: 'subscribeEmailAddress',
        summary: 'Subscribe an e-mail address without an account (double opt-in)',
        description:
          'For public channels (any other answers 404, like a missing one). The address gets an e-mail with a link ' +
          'to confirm; nothing else is sent to it until then. The answer is the same 202 whether the address is ' +
          'new, waiting for confirmation, already subscribed or suppressed, so it reveals nothing about the ' +
          'address. An unconfirmed address gets the confirmation again, at most 3 times in 24 hours. Limited to ' +
          `${EMAIL_SUBSCRIBE_PER_IP_PER_HOUR} requests per client address and hour (429). Language: the body's, ` +
          "else the browser's (Accept-Language), else bokmål.",
        security: BEARER_OPTIONAL,
        params: ChannelParams,
        body: EmailSubscriptionBody,
        response: { 202: EmailSubscriptionAccepted, ...errorResponses(...BODY_ERRORS, 404) },
      },
    },
    async (request, reply) => {
      await requestEmailSubscription(deps, callerOf(request), request.params.slug, {
        email: request.body.email,
        language: request.body.language ?? negotiateLanguage(request.headers['accept-language']),
        emailMode: request.body.emailMode,
      });
      return reply.code(202).send(EMAIL_SUBSCRIPTION_ACCEPTED);
    },
  );

  app.post(
    '/channels/:slug/email-subscriptions/import',
    {
      config: { policy: POLICY.channelManage },
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags: ['subscriptions'],
        operationId: 'importEmailSubscribers',
        summary: 'Import e-mail subscribers',
        description:
          `Up to ${MAX_IMPORT_ADDRESSES} addresses, as JSON or as text (text/plain, text/csv: one address per line). ` +
          'Each new address gets an unconfirmed subscription and a confirmation e-mail that says the channel added ' +
          'it; it receives nothing else until it confirms. Existing subscriptions are left as they are. Public ' +
          "channels only (409 for others). The channel's owners and administrators; audited.",
        security: BEARER_REQUIRED,
        params: ChannelParams,
        querystring: ImportQuery,
        body: {
          content: {
            'application/json': { schema: ImportJsonBody },
            'text/csv': { schema: ImportText },
            'text/plain': { schema: ImportText },
          },
        },
        response: { 200: ImportResult, ...errorResponses(...BODY_ERRORS, 403, 404, 409) },
      },
    },
    async (request) => {
      const body = request.body as unknown;
      // The body's schema depends on its content type; without one no schema applies, so its absence is refused here
      // (it reached `addresses.map` as a 500: found by the contract fuzzer, tests/fuzz).
      if (body === undefined || body === null) {
        throw new AppError('validation_failed', 'Send the addresses as JSON or as text, one per line', [
          { field: 'body', message: 'is required' },
        ]);
      }
      const query = request.query as { language?: Language; emailMode?: EmailMode };
      const input =
        typeof body === 'string'
          ? { entries: importEntriesFromText(body), language: query.language, emailMode: query.emailMode }
          : (() => {
              const json = body as { addresses: string[]; language?: Language; emailMode?: EmailMode };
              return {
                entries: json.addresses.map((value, index) => ({ line: index + 1, value })),
                language: json.language ?? query.language,
                emailMode: json.emailMode ?? query.emailMode,
              };
            })();
      return importEmailSubscriptions(deps, callerOf(request), request.params.slug, input);
    },
  );

  app.get(
    '/admin/suppressions',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['subscriptions'],
        operationId: 'lookUpSuppression',
        summary: 'Look up an address on the e-mail suppression list',
        description:
          'Addresses a relay refused for good (a permanent 5xx reply) get no e-mail until their owner subscribes ' +
          'again and confirms. One address at a time; 404 when it has never been suppressed. Administrators.',
        security: BEARER_REQUIRED,
        querystring: SuppressionQuery,
        response: { 200: Suppression, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => findSuppression(deps.db, request.actor, request.query.email),
  );
};

// ---------------------------------------------------------------------------------------------------------------
// The confirmation link's pages, at the root like /unsubscribe.

export interface ConfirmationRouteOptions {
  deps: Pick<AppDeps, 'config' | 'db'>;
  /** The page frame's assets and site facts (src/web/pages/email-link.tsx). */
  web: EmailLinkWeb;
}

/** The form is one hidden field; anything bigger is not our page's POST. */
const FORM_BODY_LIMIT = 8 * 1024;

const tokenOf = linkTokenOf;

/** Registered without fastify-plugin on purpose: the form parser below stays inside this plugin. */
export async function confirmationRoutes(app: FastifyInstance, options: ConfirmationRouteOptions): Promise<void> {
  const deps: { db: Db; signingKey: VerificationKeys } = {
    db: options.deps.db,
    // The ring: confirmation links sent before a key rotation keep working during the grace period.
    signingKey: resolveSigningKeys(options.deps.config, app.log),
  };
  const sendPage = (reply: FastifyReply, status: number, page: EmailLinkState): FastifyReply =>
    sendLinkPage(reply, status, renderEmailLinkPage(options.web, 'confirm', page, reply.request.url));
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const invalid = (request: FastifyRequest, reply: FastifyReply) =>
    sendPage(reply, 400, { kind: 'invalid', language: negotiateLanguage(request.headers['accept-language']) });
  const errorHandler = badRequestsAsPage(invalid);

  // Whatever arrives, a person gets a page, not a JSON error: a request refused as malformed (400) gets the page
  // for a link that is not valid (badRequestsAsPage).
  const schema = {
    tags: ['e-mail links'],
    operationId: 'showConfirmationPage',
    summary: 'Confirmation link of an e-mail subscription (HTML)',
    security: NO_CREDENTIALS,
    response: linkPageResponses(),
    querystring: { type: 'object', properties: { token: { type: 'string', 'x-text': 'identifier' } } },
  } as const;
  const config = { policy: POLICY.public };

  app.get('/subscriptions/confirm', { config, schema, errorHandler }, async (request, reply) => {
    const token = tokenOf(request);
    if (!token) return invalid(request, reply);
    try {
      const target = await findConfirmationTarget(deps, token);
      const kind = target.confirmed ? 'done' : 'confirm';
      return sendPage(reply, 200, { kind, language: target.language, channelTitle: target.channelTitle });
    } catch (error) {
      if (isAppError(error) && error.code === 'validation_failed') return invalid(request, reply);
      throw error;
    }
  });

  app.post(
    '/subscriptions/confirm',
    {
      // No CSRF token: the page is reached from an e-mail, often without a session; the signed token in the address
      // is the authority, not the session (src/http/plugins/csrf.ts).
      config: { ...config, csrf: false },
      errorHandler,
      schema: {
        ...schema,
        operationId: 'confirmEmailSubscription',
        summary: 'Confirm an e-mail subscription (the button on the confirmation page)',
        response: linkPageResponses(413, 415),
      },
    },
    async (request, reply) => {
      const token = tokenOf(request);
      if (!token) return invalid(request, reply);
      try {
        const result = await confirmByToken(deps, callerOf(request), token);
        request.log.info(
          {
            subscriptionId: String(result.subscriptionId),
            changed: result.changed,
            liftedSuppression: result.liftedSuppression,
          },
          'e-mail subscription confirmed by link',
        );
        return sendPage(reply, 200, { kind: 'done', language: result.language, channelTitle: result.channelTitle });
      } catch (error) {
        if (isAppError(error) && error.code === 'validation_failed') return invalid(request, reply);
        throw error;
      }
    },
  );
}
