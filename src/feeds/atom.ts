/**
 * Atom (RFC 4287) with RFC 6721 tombstones for retracted entries and RFC 5005 paging links.
 *
 * Why "paged feed" semantics (RFC 5005 §3) and neither `fh:complete` (§2) nor archived feeds (§4): our pages are
 * windows over a set that keeps changing — entries are retracted, expire, are edited and pinned — so a page URL does not
 * name a fixed set of entries. Archived feeds promise archive documents that never change, which cursor pages cannot
 * keep. `fh:complete` tells a reader to forget every entry not in the document; that is false for any page of a paged
 * feed, and RFC 5005 leaves a feed that is both paged and complete undefined. Paged feeds promise nothing about
 * completeness, which is the truth; retractions reach readers as explicit tombstones instead.
 */
import { assertValidFeedModel, type FeedEntry, type FeedModel, type RetractedEntry } from './model.js';
import { cdata, container, element, emptyElement, rfc3339 } from './xml.js';

const ATOM_NS = 'http://www.w3.org/2005/Atom';
/** RFC 6721 namespace; the `at` prefix is the one the RFC's examples use. */
export const TOMBSTONES_NS = 'http://purl.org/atompub/tombstones/1.0';

/**
 * Renders the model as an Atom 1.0 document (UTF-8, `application/atom+xml`).
 *
 * The feed carries an `author` (the channel), so entries without an author of their own are valid (RFC 4287 §4.1.1).
 * Titles and summaries are `type="text"`; the body is `content type="html"`. An entry whose language differs from the
 * feed's (a fallback version) carries its own `xml:lang`.
 *
 * @throws AppError internal_error when the model is invalid (relative URL, bad date…).
 */
export function renderAtom(model: FeedModel): string {
  assertValidFeedModel(model);
  const feed: string[] = [element('id', model.id), element('title', model.title, { type: 'text' })];
  if (model.description.trim() !== '') feed.push(element('subtitle', model.description, { type: 'text' }));
  feed.push(
    element('updated', rfc3339(model.updated)),
    renderAuthor(model.author.name, model.author.url ?? null),
    emptyElement('link', { rel: 'self', type: 'application/atom+xml', href: model.selfUrl }),
    emptyElement('link', { rel: 'alternate', type: 'text/html', hreflang: model.language, href: model.alternateUrl }),
  );
  const paging = model.paging ?? {};
  for (const rel of ['first', 'previous', 'next', 'last'] as const) {
    const href = paging[rel];
    if (href != null) feed.push(emptyElement('link', { rel, type: 'application/atom+xml', href }));
  }
  feed.push(...model.entries.map((entry) => renderEntry(entry, model)), ...model.retracted.map(renderTombstone));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<feed xmlns="${ATOM_NS}" xmlns:at="${TOMBSTONES_NS}" xml:lang="${model.language}">`,
    ...feed,
    '</feed>',
    '',
  ].join('\n');
}

function renderAuthor(name: string, url: string | null): string {
  return container('author', {}, `${element('name', name)}${url ? element('uri', url) : ''}`);
}

function renderEntry(entry: FeedEntry, model: FeedModel): string {
  const language = entry.language != null && entry.language !== model.language ? entry.language : null;
  const parts: string[] = [
    element('id', entry.id),
    element('title', entry.title, { type: 'text' }),
    element('updated', rfc3339(entry.updated)),
    element('published', rfc3339(entry.published)),
  ];
  if (entry.authorName != null) parts.push(renderAuthor(entry.authorName, null));
  parts.push(emptyElement('link', { rel: 'alternate', type: 'text/html', href: entry.url }));
  for (const enclosure of entry.enclosures) {
    const attributes: Record<string, string> = {
      rel: 'enclosure',
      type: enclosure.type,
      length: String(enclosure.length),
      href: enclosure.url,
    };
    if (enclosure.title) attributes.title = enclosure.title;
    parts.push(emptyElement('link', attributes));
  }
  for (const category of entry.categories) {
    parts.push(emptyElement('category', { term: category.term, scheme: category.scheme, label: category.label }));
  }
  if (entry.summary != null && entry.summary.trim() !== '') {
    parts.push(element('summary', entry.summary, { type: 'text' }));
  }
  // type="html": the content is HTML carried as text; CDATA keeps it readable and is equivalent to escaping it.
  parts.push(`<content type="html">${cdata(entry.contentHtml)}</content>`);
  return container('entry', language ? { 'xml:lang': language } : {}, `\n${parts.join('\n')}\n`);
}

function renderTombstone(tombstone: RetractedEntry): string {
  const attributes = { ref: tombstone.id, when: rfc3339(tombstone.when) };
  if (tombstone.comment == null || tombstone.comment.trim() === '') return emptyElement('at:deleted-entry', attributes);
  return container('at:deleted-entry', attributes, element('at:comment', tombstone.comment, { type: 'text' }));
}
