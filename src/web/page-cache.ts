/**
 * Finished pages for anonymous readers, kept as bytes in the read cache (src/services/read-cache.ts): a channel's
 * page and an announcement's, at their plain addresses, are what most visitors open (from the widget, e-mails, links
 * shared in chat), and reading and rendering one costs far more than sending it. The kept copy is
 * dropped by the same PostgreSQL change notifications as the listings and feeds it is made from (publish, edit,
 * retract, pin, a rename — in any API process, a worker or SQL), never stored across a change that came during the
 * render, and only kept while the cache is listening.
 *
 * What a kept copy may hold is what every anonymous reader of that address in that language is shown:
 *
 * - **Only anonymous viewers.** A signed-in viewer's page carries their name, their CSRF token and their own
 *   subscription; it is always rendered for them (`private, no-store`).
 * - **The address is part of the key**, and only the plain address is kept (the path, or the path with `?lang=`): a
 *   page's frame writes its own address into the sign-in link and the language form, and any other query (a filter,
 *   a cursor, `?done=`) is rendered per request — so odd addresses cannot fill the cache either.
 * - **The language is part of the key** (`?lang=`, the language cookie or Accept-Language decide it); the response
 *   keeps `Vary: Cookie, Accept-Language`.
 * - **Nothing per request in the markup.** Pages have no inline scripts or styles (src/web/README.md), so they carry
 *   no CSP nonce: the nonces are made per response in the header (src/http/plugins/security-headers.ts), which a
 *   kept body does not touch. A rendered page that does carry a nonce attribute is sent but not kept.
 * - **Time.** Relative times ("for 5 minutter siden") are rendered as they read now, and the copy ends at the first
 *   moment one of them would read otherwise (`relativeChangesAt`) — or when the data changes by itself (an expiry,
 *   the end of a pin), or after READ_CACHE_TTL_MS. Why not absolute dates with a client script that writes the
 *   relative text: the page would then read differently with and without JavaScript, and by the browser's clock
 *   rather than the service's, while the copy of a page whose newest item is an hour old lives an hour anyway and
 *   one with a fresh item a minute — one render a minute, against hundreds of requests a second.
 * - **Revalidation.** A kept copy is sent with a strong ETag (its bytes' hash), so a browser's revalidation of the
 *   `no-cache` page is a 304 without a body while the copy stands.
 */
import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { LANGUAGES } from '../domain/types.js';
import { isNotModified } from '../feeds/conditional.js';
import { strongEtag } from '../services/newest-page.js';
import type { Dependencies, ReadCache } from '../services/read-cache.js';
import type { PageContext } from './context.js';
import { relativeChangesAt } from './i18n/translator.js';
import { renderDocument, sendDocument } from './render.js';

/** What a kept page is made of. */
export interface SharedRender {
  page: VNode;
  /** The channels its data was read from (ALL_CHANNELS for anything). */
  dependencies: Dependencies;
  /**
   * When its data changes by itself (an announcement expires, a pin ends): null for never; undefined when the
   * render could not tell (its reads did not come through the cache), and then the page is not kept.
   */
  changesAt: Date | null | undefined;
}

/** The addresses a page is kept for: `path` itself, or with `?lang=` naming a language. */
export function isSharedAddress(url: string, path: string): boolean {
  if (url === path) return true;
  if (!url.startsWith(`${path}?lang=`)) return false;
  return (LANGUAGES as readonly string[]).includes(url.slice(path.length + 6));
}

/** A kept page: its bytes and their strong validator, so a browser's revalidation (`no-cache`) is a bodiless 304. */
interface KeptPage {
  body: Buffer;
  etag: string;
}

function sendKept(reply: FastifyReply, ctx: PageContext, page: KeptPage) {
  reply.header('etag', page.etag);
  if (isNotModified(reply.request.headers, page.etag, null)) return sendDocument(reply, ctx, '', { status: 304 });
  return sendDocument(reply, ctx, page.body);
}

/** A nonce attribute in markup: such a page depends on its response (`nonce="…"`, in any case, unquoted too). */
const NONCE_ATTRIBUTE = /\snonce=/i;

/**
 * Sends the page at `url` (an address isSharedAddress accepted) for an anonymous viewer from the cache, or renders it
 * with `render` and keeps it. A signed-in viewer's page is always rendered (and not kept). `render` is told whether
 * the page will be kept (`keeping`), so it can leave out what only keeping needs (`changesAt`).
 */
export async function sendSharedPage(
  reply: FastifyReply,
  ctx: PageContext,
  cache: ReadCache | undefined,
  url: string,
  render: (ctx: PageContext, keeping: boolean) => Promise<SharedRender>,
) {
  if (ctx.viewer || !cache?.enabled) return sendDocument(reply, ctx, renderDocument((await render(ctx, false)).page));
  const key = `page:${ctx.language}:${url}`;
  const kept = cache.get<KeptPage>(key);
  if (kept) return sendKept(reply, ctx, kept);

  const token = cache.begin();
  // The earliest moment a relative time on the page would read otherwise: the page's `relative` notes each one.
  let relativeUntil = Number.POSITIVE_INFINITY;
  const noting: PageContext = {
    ...ctx,
    relative(value: Date, now: Date = new Date()) {
      const changesAt = relativeChangesAt(value, now);
      if (changesAt !== null && changesAt < relativeUntil) relativeUntil = changesAt;
      return ctx.relative(value, now);
    },
  };
  const rendered = await render(noting, true);
  const document = renderDocument(rendered.page);
  const body = Buffer.from(document);
  if (rendered.changesAt === undefined || NONCE_ATTRIBUTE.test(document)) return sendDocument(reply, ctx, body);
  const page: KeptPage = { body, etag: strongEtag(body) };
  const validUntil = Math.min(relativeUntil, rendered.changesAt?.getTime() ?? Number.POSITIVE_INFINITY);
  const stored = cache.store(token, key, page, {
    bytes: body.length + key.length + 150,
    dependencies: rendered.dependencies,
    validUntil: Number.isFinite(validUntil) ? validUntil : null,
  });
  // Only a kept page has a validator: one rendered during a change is not what the next request will get.
  return stored ? sendKept(reply, ctx, page) : sendDocument(reply, ctx, body);
}
