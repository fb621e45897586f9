/**
 * Feed documents (RSS 2.0, Atom with tombstones and paging, JSON Feed 1.1), their HTTP validators, and the iCalendar
 * download of a maintenance window. Pure functions over plain data; routes build the models.
 */
export { renderAtom, TOMBSTONES_NS } from './atom.js';
export {
  ANNOUNCEMENT_TYPE_LABELS,
  ANNOUNCEMENT_TYPES,
  type AnnouncementType,
  announcementCategories,
  IMPORTANCE_LABELS,
} from './categories.js';
export { feedEtag, isNotModified, lastModified, parseHttpDate, type RequestHeaders } from './conditional.js';
export { ICS_PRODUCT_ID, type MaintenanceEvent, renderMaintenanceIcs } from './ical.js';
export { JSON_FEED_VERSION, type JsonFeedDocument, renderJsonFeed } from './json-feed.js';
export {
  assertValidFeedModel,
  FEED_CONTENT_TYPES,
  type FeedCategory,
  type FeedEnclosure,
  type FeedEntry,
  type FeedModel,
  type FeedPaging,
  type RetractedEntry,
} from './model.js';
export { renderRss } from './rss.js';
