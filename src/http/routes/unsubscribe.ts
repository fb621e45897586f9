/**
 * `/unsubscribe?token=…` — the e-mail link endpoints (RFC 8058 one-click unsubscribe).
 *
 * GET shows a page with a button and changes nothing: mail scanners and link previews fetch every link in a message.
 * POST unsubscribes: either the mail client's one-click request (`List-Unsubscribe=One-Click`, urlencoded or
 * multipart) or the page's own form. The signed token in the address is the authority; the body only states intent,
 * so its content is not required. Every answer is an HTML page in the subscription's language; a token that is not
 * valid gets a 400 page that reveals nothing (not whether the subscription exists, nor why the token failed).
 */
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../domain/errors.js';
import { languageFromAcceptLanguage } from '../../domain/language.js';
import type { Language } from '../../domain/types.js';
import { resolveSigningKeys } from '../../mail/signing-keys.js';
import { findUnsubscribeTarget, type UnsubscribeDeps, unsubscribeByToken } from '../../services/unsubscribe.js';
import { type EmailLinkState, type EmailLinkWeb, renderEmailLinkPage } from '../../web/pages/email-link.js';
import type { AppDeps } from '../app.js';
import { badRequestsAsPage, linkPageResponses, linkTokenOf, sendLinkPage } from '../link-pages.js';
import { POLICY } from '../policy.js';
import { NO_CREDENTIALS } from '../schemas/common.js';

export interface UnsubscribeRouteOptions {
  deps: Pick<AppDeps, 'config' | 'db'>;
  /** The page frame's assets and site facts (src/web/pages/email-link.tsx). */
  web: EmailLinkWeb;
}

/** Bodies here are one short form field; anything bigger is not a one-click request. */
const FORM_BODY_LIMIT = 8 * 1024;

/** The page's language when the token does not tell it: the browser's preference among ours, else bokmål. */
export function negotiateLanguage(acceptLanguage: string | undefined): Language {
  return languageFromAcceptLanguage(acceptLanguage) ?? 'nb';
}

const tokenOf = linkTokenOf;

/** Registered without fastify-plugin on purpose: the form parsers below stay inside this plugin. */
export async function unsubscribeRoutes(app: FastifyInstance, options: UnsubscribeRouteOptions): Promise<void> {
  const deps: UnsubscribeDeps = {
    db: options.deps.db,
    unsubscribeKeys: resolveSigningKeys(options.deps.config, app.log),
  };
  const sendPage = (reply: FastifyReply, status: number, page: EmailLinkState): FastifyReply =>
    sendLinkPage(reply, status, renderEmailLinkPage(options.web, 'unsubscribe', page, reply.request.url));

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  // RFC 8058 says the one-click POST SHOULD be multipart/form-data. Its content is not needed (see above), so it is
  // read as text within the limit and not parsed.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_r, body, done) =>
    done(null, body),
  );

  const invalid = (request: FastifyRequest, reply: FastifyReply) =>
    sendPage(reply, 400, { kind: 'invalid', language: negotiateLanguage(request.headers['accept-language']) });
  const errorHandler = badRequestsAsPage(invalid);

  // Whatever arrives, a person gets a page, not a JSON error: a request refused as malformed (400) gets the page
  // for a link that is not valid (badRequestsAsPage).
  const schema = {
    tags: ['e-mail links'],
    operationId: 'showUnsubscribePage',
    summary: 'Unsubscribe link from an e-mail (HTML)',
    security: NO_CREDENTIALS,
    response: linkPageResponses(),
    querystring: { type: 'object', properties: { token: { type: 'string', 'x-text': 'identifier' } } },
  } as const;

  // Public: the signed token in the address is the authority, not the caller's identity.
  const config = { policy: POLICY.public };

  app.get('/unsubscribe', { config, schema, errorHandler }, async (request, reply) => {
    const token = tokenOf(request);
    if (!token) return invalid(request, reply);
    try {
      const target = await findUnsubscribeTarget(deps, token);
      const kind = target.emailMode === 'off' ? 'done' : 'confirm';
      return sendPage(reply, 200, { kind, language: target.language, channelTitle: target.channelTitle });
    } catch (error) {
      if (isAppError(error) && error.code === 'validation_failed') return invalid(request, reply);
      throw error;
    }
  });

  app.post(
    '/unsubscribe',
    {
      // No CSRF token: mail clients POST here without a cookie, and a signed-in person's browser may send one, but
      // the signed token in the address is the authority either way, not the session (src/http/plugins/csrf.ts).
      config: { ...config, csrf: false },
      errorHandler,
      schema: {
        ...schema,
        operationId: 'unsubscribeByLink',
        summary: 'One-click unsubscribe (RFC 8058)',
        response: linkPageResponses(413, 415),
      },
    },
    async (request, reply) => {
      const token = tokenOf(request);
      if (!token) return invalid(request, reply);
      try {
        const result = await unsubscribeByToken(deps, token);
        request.log.info(
          { subscriptionId: String(result.subscriptionId), changed: result.changed },
          'unsubscribed by link',
        );
        return sendPage(reply, 200, { kind: 'done', language: result.language, channelTitle: result.channelTitle });
      } catch (error) {
        if (isAppError(error) && error.code === 'validation_failed') return invalid(request, reply);
        throw error;
      }
    },
  );
}
