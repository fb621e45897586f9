/**
 * The small HTML pages behind links in e-mails (unsubscribe, confirm a subscription): how they are sent and how their
 * token is read. The token is in the address, so the page keeps it out of Referer headers, caches and search engines,
 * and allows nothing but its own inline style and a form posting back to itself.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

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
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .send(html);
}

/**
 * The `token` query parameter, when it looks like one (a bounded, non-empty string that passed the route's query
 * schema: the link routes take validation problems as they are, to answer them with a page).
 */
export function linkTokenOf(request: FastifyRequest): string | undefined {
  if (request.validationError) return undefined;
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}
