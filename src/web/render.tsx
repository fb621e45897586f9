/**
 * Sending a page: `<!doctype html>` and the component rendered by preact-render-to-string, which escapes every
 * text and attribute value — the only way to put markup in is React's dangerous-inner-HTML prop, used in one
 * place (components/trusted-html.tsx) for HTML the sanitiser produced (tests/unit/web-templates.test.tsx keeps it so).
 */
import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { PageContext } from './context.js';

export function renderDocument(page: VNode): string {
  return `<!doctype html>${renderToString(page)}`;
}

export interface SendPageOptions {
  status?: number;
}

/**
 * Sends a rendered page. A page for a signed-in viewer holds personal data (their name, their CSRF token, their
 * feed): `private, no-store`. An anonymous page may be cached by the browser but must be revalidated (`no-cache`):
 * it changes with every announcement. Either way its content depends on the cookie (session, language choice) and
 * on Accept-Language.
 */
export function sendPage(reply: FastifyReply, ctx: PageContext, page: VNode, options: SendPageOptions = {}) {
  return sendDocument(reply, ctx, renderDocument(page), options);
}

/** Sends a document already rendered for `ctx` (a kept copy, src/web/page-cache.ts), with sendPage's headers. */
export function sendDocument(
  reply: FastifyReply,
  ctx: PageContext,
  document: string | Buffer,
  options: SendPageOptions = {},
) {
  return reply
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .header('content-language', ctx.language)
    .header('cache-control', ctx.viewer ? 'private, no-store' : 'no-cache')
    .header('vary', 'Cookie, Accept-Language')
    .send(document);
}
