/** What the publishers' page routes share: who may ask, the path parameters, and the notices after a submission. */
import type { FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../../../domain/errors.js';
import type { PageContext } from '../../../../web/context.js';
import type { MessageKey } from '../../../../web/i18n/catalogue.js';

/** Publishing pages are for signed-in people (an anonymous visitor asking with GET is sent to sign in and back). */
export function requireViewer(ctx: PageContext): void {
  if (!ctx.viewer) throw new AppError('unauthenticated', ctx.t('auth.signInToContinue'));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `:id` of a page's announcement (or webhook); anything that is not an id answers as an unknown one (404). */
export function idParam(request: FastifyRequest, what = 'Announcement'): string {
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || !UUID.test(id)) throw notFound(what);
  return id.toLowerCase();
}

export function slugOf(request: FastifyRequest): string {
  const slug = (request.params as { slug?: unknown }).slug;
  if (typeof slug !== 'string' || slug.length > 100) throw notFound('Channel');
  return slug;
}

const NOTICES: Record<string, MessageKey> = {
  draft: 'publisher.saved.draft',
  scheduled: 'publisher.saved.scheduled',
  published: 'publisher.saved.published',
  updated: 'publisher.saved.updated',
  saved: 'publisher.saved.saved',
  pinFailed: 'publisher.saved.pinFailed',
  retracted: 'publisher.saved.retracted',
  retried: 'publisher.saved.retried',
  settings: 'publisher.saved.settings',
  granted: 'publisher.saved.granted',
  revoked: 'publisher.saved.revoked',
  webhookDeleted: 'publisher.saved.webhookDeleted',
};

/** The notice of `?saved=` after a redirect (a known word only: the page never echoes the query). */
export function savedNotice(
  ctx: PageContext,
  request: FastifyRequest,
): { color: 'success' | 'warning'; text: string } | undefined {
  const saved = (request.query as Record<string, unknown> | undefined)?.saved;
  const key = typeof saved === 'string' ? NOTICES[saved] : undefined;
  if (!key) return undefined;
  return { color: saved === 'pinFailed' ? 'warning' : 'success', text: ctx.t(key) };
}
