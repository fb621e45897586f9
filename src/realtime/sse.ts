/**
 * The Server-Sent Events format (HTML Living Standard, "Server-sent events"): how a frame becomes an event on
 * `text/event-stream`. Pure; the stream itself is the event-stream transport (transports.ts).
 *
 * Every frame is one event with one `data:` line (a frame is JSON on one line) and, when it carries a position, an
 * `id:` line, which the browser's EventSource keeps and resends as `Last-Event-ID` when it reconnects. No `event:`
 * field: all frames reach `onmessage`, and clients read their `type`.
 */

/** A comment line: ignored by clients, it keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';

/** One event. Line breaks in `data` become several `data:` lines, which the client joins with `\n` again. */
export function formatSseEvent(data: string, id?: string): string {
  if (id !== undefined && /[\r\n\0]/.test(id)) throw new Error('An SSE id cannot hold line breaks or NUL');
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `${id === undefined ? '' : `id: ${id}\n`}${lines.join('')}\n`;
}

/** The reconnection delay a client should wait after the stream ends (`retry:`, in milliseconds). */
export function formatSseRetry(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error('retry must be a whole number of milliseconds');
  return `retry: ${ms}\n\n`;
}
