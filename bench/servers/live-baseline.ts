/**
 * The live benchmark's baseline, in a process of its own: a bare `ws` server on loopback. A client's first message
 * (its subscribe frame) is answered `{"type":"subscribed"}`; `POST /broadcast` on the same port sends ONE
 * pre-serialised frame — the product's own frame bytes, given by the benchmark in the request body — to every open
 * socket in a plain loop, and answers when the loop is done. No authentication, no access checks, no Redis.
 *
 * Settings (environment): PORT.
 */
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/broadcast') {
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    // Serialised once: every socket gets the same bytes, as text frames.
    const frame = Buffer.concat(chunks);
    let sent = 0;
    for (const socket of sockets.clients) {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(frame, { binary: false });
        sent += 1;
      }
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sent }));
  });
});
const sockets = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
sockets.on('connection', (socket) => {
  socket.once('message', () => socket.send('{"type":"subscribed","channels":["bench-live"],"denied":[]}'));
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
