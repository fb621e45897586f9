/** The live connection's ports in a browser: WebSocket, fetch with a streamed body, and the page's events. */
import { createLiveConnection, type LiveConnection, type LiveOptions, type LivePorts } from './connection.js';

export const browserPorts: LivePorts = {
  openSocket(url, events) {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      // A URL the browser refuses outright (a page's CSP without the service in connect-src): a failed attempt.
      setTimeout(() => events.close(1006));
      return { send() {}, close() {} };
    }
    socket.onopen = () => events.open();
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') events.message(event.data);
    };
    socket.onclose = (event) => events.close(event.code);
    return {
      send(text) {
        if (socket.readyState === WebSocket.OPEN) socket.send(text);
      },
      close() {
        // Given up on: its late events must not reach the connection, which has moved on.
        socket.onopen = socket.onmessage = socket.onclose = null;
        socket.close();
      },
    };
  },
  openStream(url, credentials, events) {
    const controller = new AbortController();
    let ended = false;
    const end = () => {
      if (!ended) events.end();
      ended = true;
    };
    fetch(url, { headers: { accept: 'text/event-stream' }, credentials, cache: 'no-store', signal: controller.signal })
      .then(async (response) => {
        events.response(response.status);
        if (!response.ok || !response.body) return end();
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          events.chunk(decoder.decode(value, { stream: true }));
        }
        end();
      })
      .catch(end);
    return {
      abort() {
        ended = true;
        controller.abort();
      },
    };
  },
  now: () => Date.now(),
  random: () => Math.random(),
  online: () => navigator.onLine !== false,
  watch({ wake, online }) {
    const visible = () => {
      if (document.visibilityState === 'visible') wake();
    };
    const shown = (event: PageTransitionEvent) => {
      if (event.persisted) wake();
    };
    window.addEventListener('online', online);
    window.addEventListener('pageshow', shown);
    document.addEventListener('visibilitychange', visible);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('pageshow', shown);
      document.removeEventListener('visibilitychange', visible);
    };
  },
};

/** Opens a live connection in this page (see connection.ts for what it does, index.ts for how to use it). */
export function openLive(options: LiveOptions): LiveConnection {
  return createLiveConnection(options, browserPorts);
}
