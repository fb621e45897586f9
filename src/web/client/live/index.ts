/**
 * The browser's live client, shared by the widget and the web app's live pages. No dependencies.
 *
 * ```ts
 * import { openLive, upsertAnnouncement, removeAnnouncement } from '../live/index.js';
 *
 * const live = openLive({
 *   service: location.origin,            // the service's origin (the widget: its script's origin)
 *   channels: ['bott-sa'],
 *   lang: 'nb',
 *   onFrame(frame) {                      // announcement frames arrive once each, in position order
 *     if (frame.type === 'announcement.published' || frame.type === 'announcement.updated') {
 *       items = upsertAnnouncement(items, frame.announcement);
 *     } else if (frame.type === 'announcement.retracted') {
 *       items = removeAnnouncement(items, frame.announcementId);
 *     }
 *   },
 *   onReset(channels) { reloadOverRest(channels); },  // the server cannot replay: reload, never a silent gap
 *   onStatus(status) { showConnectionState(status); },  // connecting · live (reconnected?) · waiting · stopped
 * });
 * live.close();                             // when the page no longer needs it
 * ```
 *
 * It connects by WebSocket and falls back to Server-Sent Events when WebSockets fail, subscribes, resumes from the
 * highest position it received after every reconnection (jittered exponential back-off; at once when the network
 * returns), notices stalled connections by missed heartbeats, and drops events it already delivered. What it does
 * in detail: connection.ts. The protocol: src/realtime/README.md.
 *
 * Read state is not replayed: on `live` with `reconnected: true`, reload what depends on it (GET /api/v1/me/unread).
 */

export { compareForDisplay, mergeAnnouncements, removeAnnouncement, upsertAnnouncement } from './announcements.js';
export { openLive } from './browser.js';
export type { LiveConnection, LiveOptions, LiveState, LiveStatus, LiveTransportName } from './connection.js';
export { type LiveAnnouncement, parseServerFrame, type ServerFrame } from './frames.js';
