/**
 * The two lines a web editor pastes into another site's page to show a channel's latest announcements there (the
 * widget, src/web/client/standalone/): the widget's module from this service, and its element. The channel page
 * offers them to copy; the widget's documentation shows the same lines, so they are made here, once.
 */
import type { Language } from '../domain/types.js';
import { SLUG_PATTERN } from '../http/schemas/common.js';

/** How many announcements the snippet asks the widget for; the host page's editor may change it. */
export const WIDGET_SNIPPET_LIMIT = 5;

const SLUG = new RegExp(SLUG_PATTERN);

/**
 * `<script type="module" src="<publicUrl>/widget.js"></script>` and `<meldingskanal-feed channel lang limit>`, joined
 * by a newline: plain text, which the channel page shows (escaped by its template) for copying. Nothing in it needs
 * escaping: PUBLIC_URL is a validated http(s) URL and a slug is lower-case letters, digits and hyphens — anything
 * else is refused rather than quoted.
 */
export function widgetSnippet(publicUrl: string, slug: string, lang: Language): string {
  if (!SLUG.test(slug)) throw new Error(`Not a channel slug: ${JSON.stringify(slug)}`);
  const base = new URL(publicUrl).href.replace(/\/+$/, '');
  return [
    `<script type="module" src="${base}/widget.js"></script>`,
    `<meldingskanal-feed channel="${slug}" lang="${lang}" limit="${WIDGET_SNIPPET_LIMIT}"></meldingskanal-feed>`,
  ].join('\n');
}
