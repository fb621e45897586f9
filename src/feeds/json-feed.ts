/**
 * JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).
 */
import { assertValidFeedModel, type FeedEntry, type FeedModel } from './model.js';
import { rfc3339, stripIllegalXmlChars } from './xml.js';

export const JSON_FEED_VERSION = 'https://jsonfeed.org/version/1.1';

interface JsonFeedAuthor {
  name: string;
  url?: string;
}

interface JsonFeedAttachment {
  url: string;
  mime_type: string;
  size_in_bytes: number;
  title?: string;
}

interface JsonFeedItem {
  id: string;
  url: string;
  title: string;
  content_html: string;
  summary?: string;
  date_published: string;
  date_modified: string;
  authors?: JsonFeedAuthor[];
  tags?: string[];
  language?: string;
  attachments?: JsonFeedAttachment[];
}

/** The document as JSON Feed 1.1 names its fields. */
export interface JsonFeedDocument {
  version: typeof JSON_FEED_VERSION;
  title: string;
  home_page_url: string;
  feed_url: string;
  description?: string;
  language: string;
  authors: JsonFeedAuthor[];
  next_url?: string;
  items: JsonFeedItem[];
}

/**
 * Text goes through the same filter as the XML formats (C0 controls and lone surrogates removed), so one announcement
 * reads the same in every format and no reader meets an unpaired surrogate that JSON would otherwise carry as `\ud800`.
 */
const text = stripIllegalXmlChars;

/**
 * Renders the model as a JSON Feed 1.1 document (`application/feed+json`).
 *
 * JSON Feed has no tombstones, so retracted entries are simply absent, and of the RFC 5005 links only `next` has a
 * JSON Feed field (`next_url`). Tags are the category terms (stable across languages).
 *
 * @throws AppError internal_error when the model is invalid (relative URL, bad date…).
 */
export function renderJsonFeed(model: FeedModel): string {
  assertValidFeedModel(model);
  const author: JsonFeedAuthor = { name: text(model.author.name) };
  if (model.author.url != null) author.url = model.author.url;
  // Built in the order the specification lists the fields, so the document reads top-down.
  const document: JsonFeedDocument = {
    version: JSON_FEED_VERSION,
    title: text(model.title),
    home_page_url: model.alternateUrl,
    feed_url: model.selfUrl,
    ...(model.description.trim() === '' ? {} : { description: text(model.description) }),
    ...(model.paging?.next == null ? {} : { next_url: model.paging.next }),
    language: model.language,
    authors: [author],
    items: model.entries.map((entry) => renderItem(entry, model)),
  };
  return JSON.stringify(document);
}

function renderItem(entry: FeedEntry, model: FeedModel): JsonFeedItem {
  const item: JsonFeedItem = {
    id: entry.id,
    url: entry.url,
    title: text(entry.title),
    content_html: text(entry.contentHtml),
    date_published: rfc3339(entry.published),
    date_modified: rfc3339(entry.updated),
  };
  if (entry.summary != null && entry.summary.trim() !== '') item.summary = text(entry.summary);
  // Without authors of its own an item inherits the feed's (JSON Feed 1.1, "authors").
  if (entry.authorName != null) item.authors = [{ name: text(entry.authorName) }];
  if (entry.categories.length > 0) item.tags = entry.categories.map((category) => text(category.term));
  if (entry.language != null && entry.language !== model.language) item.language = entry.language;
  if (entry.enclosures.length > 0) {
    item.attachments = entry.enclosures.map((enclosure) => {
      const attachment: JsonFeedAttachment = {
        url: enclosure.url,
        mime_type: enclosure.type,
        size_in_bytes: enclosure.length,
      };
      if (enclosure.title) attachment.title = text(enclosure.title);
      return attachment;
    });
  }
  return item;
}
