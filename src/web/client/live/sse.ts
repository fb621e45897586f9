/**
 * A parser of `text/event-stream` (HTML Living Standard, "Server-sent events", the event stream interpretation),
 * fed the decoded text in whatever chunks the network delivers. The live client reads the stream with `fetch`
 * rather than `EventSource` because it needs what EventSource hides: the heartbeat comments (to notice a stalled
 * stream), the HTTP status of a refusal (to stop rather than retry forever), and its own back-off. Pure.
 */
export interface SseHandlers {
  /** A complete event: its data (lines joined with `\n`) and the stream's last event id so far. */
  event(data: string, lastEventId: string): void;
  /** A comment line (`: heartbeat`): the stream is alive. */
  comment?(): void;
  /** The `retry:` field: the reconnection delay the server asks for, in milliseconds. */
  retry?(ms: number): void;
}

export interface SseParser {
  push(chunk: string): void;
}

export function createSseParser(handlers: SseHandlers): SseParser {
  let buffer = '';
  let data: string[] = [];
  let lastEventId = '';
  // The first chunk may start with a byte order mark, which is not part of the first field's name.
  let first = true;

  const line = (text: string) => {
    if (text === '') {
      if (data.length) handlers.event(data.join('\n'), lastEventId);
      data = [];
      return;
    }
    if (text.startsWith(':')) {
      handlers.comment?.();
      return;
    }
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) handlers.retry?.(Number(value));
  };

  return {
    push(chunk) {
      buffer += chunk;
      if (first && buffer) {
        if (buffer.startsWith('\uFEFF')) buffer = buffer.slice(1);
        first = false;
      }
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        if (end < 0) return;
        // A CR at the very end may be the first half of a CRLF split across chunks: wait for the next chunk.
        if (buffer[end] === '\r' && end === buffer.length - 1) return;
        const breakLength = buffer.startsWith('\r\n', end) ? 2 : 1;
        line(buffer.slice(0, end));
        buffer = buffer.slice(end + breakLength);
      }
    },
  };
}
