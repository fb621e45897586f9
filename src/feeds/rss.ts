/**
 * RSS 2.0 (https://www.rssboard.org/rss-specification), with the Atom namespace for the self link and RFC 5005 paging
 * links (RFC 5005 Appendix B) and Dublin Core for the author's name.
 */
import { assertValidFeedModel, type FeedEntry, type FeedModel } from './model.js';
import { cdata, element, emptyElement, rfc822 } from './xml.js';

const ATOM_NS = 'http://www.w3.org/2005/Atom';
const DUBLIN_CORE_NS = 'http://purl.org/dc/elements/1.1/';

/**
 * Renders the model as an RSS 2.0 document (UTF-8, `application/rss+xml`).
 *
 * What RSS cannot say is left out rather than invented: retracted entries simply disappear (RSS has no tombstones; Atom
 * carries them), and only the first attachment becomes an `enclosure`, because RSS 2.0 allows one per item (RSS Board
 * best practice; readers ignore the rest). `author` must be an e-mail address in RSS, which we do not publish, so the
 * name goes in `dc:creator`. Item ids are URNs or tag URIs, not URLs, hence `guid isPermaLink="false"`.
 *
 * @throws AppError internal_error when the model is invalid (relative URL, bad date…).
 */
export function renderRss(model: FeedModel): string {
  assertValidFeedModel(model);
  const channel: string[] = [
    element('title', model.title),
    element('link', model.alternateUrl),
    // description is required; a channel without one is described by its title.
    element('description', model.description.trim() === '' ? model.title : model.description),
    element('language', model.language),
    element('lastBuildDate', rfc822(model.updated)),
    emptyElement('atom:link', { rel: 'self', type: 'application/rss+xml', href: model.selfUrl }),
    ...pagingLinks(model),
    ...model.entries.map(renderItem),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<rss version="2.0" xmlns:atom="${ATOM_NS}" xmlns:dc="${DUBLIN_CORE_NS}">`,
    '<channel>',
    ...channel,
    '</channel>',
    '</rss>',
    '',
  ].join('\n');
}

function pagingLinks(model: FeedModel): string[] {
  const paging = model.paging ?? {};
  const links: string[] = [];
  for (const rel of ['first', 'previous', 'next', 'last'] as const) {
    const href = paging[rel];
    if (href != null) links.push(emptyElement('atom:link', { rel, type: 'application/rss+xml', href }));
  }
  return links;
}

function renderItem(entry: FeedEntry): string {
  const parts: string[] = [
    element('title', entry.title),
    element('link', entry.url),
    // The HTML body as text: RSS readers render description as HTML.
    `<description>${cdata(entry.contentHtml)}</description>`,
  ];
  if (entry.authorName != null) parts.push(element('dc:creator', entry.authorName));
  for (const category of entry.categories) parts.push(element('category', category.term, { domain: category.scheme }));
  const [enclosure] = entry.enclosures;
  if (enclosure) {
    parts.push(
      emptyElement('enclosure', { url: enclosure.url, length: String(enclosure.length), type: enclosure.type }),
    );
  }
  parts.push(element('guid', entry.id, { isPermaLink: 'false' }), element('pubDate', rfc822(entry.published)));
  return `<item>\n${parts.join('\n')}\n</item>`;
}
