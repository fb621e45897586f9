/**
 * The small HTML pages behind links in e-mails (unsubscribe, confirm a subscription): how they are sent and how their
 * token is read. The token is in the address, so the page keeps it out of Referer headers, caches and search engines,
 * and allows nothing but this site's style sheet and scripts and a form posting back to itself (the page is the web
 * app's frame, src/web/pages/email-link.tsx).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { ERROR_STATUS } from '../domain/errors.js';
import { classifyError } from './plugins/errors.js';
import { errorResponses } from './schemas/common.js';

/** Longest token a link page accepts; anything longer is not one of ours. */
const MAX_TOKEN_LENGTH = 200;

export function sendLinkPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('x-robots-tag', 'noindex')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .send(html);
}

/**
 * A route-level error handler for a link page: whatever makes a request malformed (a query, header or body that
 * input hygiene refuses, a body it cannot parse), a person gets the page for a link that is not valid, as for a bad
 * token. Other errors go on to the app's error handler.
 */
export function badRequestsAsPage(
  invalid: (request: FastifyRequest, reply: FastifyReply) => FastifyReply,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, request, reply) => {
    if (ERROR_STATUS[classifyError(error).code] === 400) return invalid(request, reply);
    throw error;
  };
}

/** The `token` query parameter, when it looks like one (a bounded, non-empty string). */
export function linkTokenOf(request: FastifyRequest): string | undefined {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}

const page = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

/**
 * A link page's responses in the OpenAPI document: a page for people, 200 or 400 (a link that is not valid, for any
 * reason: the page does not say which), and the errors any route can give (`statuses` adds e.g. 413, 415).
 */
export function linkPageResponses(...statuses: number[]): Record<number, TSchema | ReturnType<typeof page>> {
  return {
    ...errorResponses(...statuses),
    200: page('A page for people (HTML)'),
    400: page('The link is not valid, expired or was changed: a page that says so (HTML)'),
  };
}
