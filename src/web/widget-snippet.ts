/**
 * The two lines a web editor pastes into another site's page to show a channel's latest announcements there (the
 * widget, src/web/client/widget/): the widget's module from this service, and its element. The channel page offers
 * them to copy and the widget's demo page shows them, so they are made here, once.
 */
import type { Importance, Language } from '../domain/types.js';
import { SLUG_PATTERN } from '../http/schemas/common.js';
import { WIDGET_MAX_CHANNELS, WIDGET_MAX_LIMIT, WIDGET_SCRIPT_PATH, WIDGET_TAG } from './widget-contract.js';

/** How many announcements the snippet asks the widget for unless told; the host page's editor may change it. */
export const WIDGET_SNIPPET_LIMIT = 5;

const SLUG = new RegExp(SLUG_PATTERN);

export interface WidgetSnippetOptions {
  /** The service's public address (PUBLIC_URL). */
  publicUrl: string;
  /** One or more channel slugs. */
  channels: readonly string[];
  lang: Language;
  limit?: number;
  /** The importances to show (all when left out). */
  importance?: readonly Importance[];
  layout?: 'full' | 'compact';
}

/**
 * `<script type="module" src="<publicUrl>/widget.js"></script>` and `<meldingskanal-feed channel lang limit …>`,
 * joined by a newline: plain text, which pages show (escaped by their templates) for copying. Nothing in it needs
 * escaping: PUBLIC_URL is a validated http(s) URL, a slug is lower-case letters, digits and hyphens, and the other
 * values are numbers and fixed words — anything else is refused rather than quoted.
 */
export function widgetSnippet(options: WidgetSnippetOptions): string {
  const { channels, limit = WIDGET_SNIPPET_LIMIT } = options;
  if (!channels.length || channels.length > WIDGET_MAX_CHANNELS) {
    throw new Error(`A widget shows 1 to ${WIDGET_MAX_CHANNELS} channels, not ${channels.length}`);
  }
  for (const slug of channels) {
    if (!SLUG.test(slug)) throw new Error(`Not a channel slug: ${JSON.stringify(slug)}`);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > WIDGET_MAX_LIMIT) {
    throw new Error(`A widget shows 1 to ${WIDGET_MAX_LIMIT} announcements, not ${limit}`);
  }
  const base = new URL(options.publicUrl).href.replace(/\/+$/, '');
  const attributes = [`channel="${channels.join(',')}"`, `lang="${options.lang}"`, `limit="${limit}"`];
  if (options.importance?.length) attributes.push(`importance="${options.importance.join(',')}"`);
  if (options.layout) attributes.push(`layout="${options.layout}"`);
  return [
    `<script type="module" src="${base}${WIDGET_SCRIPT_PATH}"></script>`,
    `<${WIDGET_TAG} ${attributes.join(' ')}></${WIDGET_TAG}>`,
  ].join('\n');
}
