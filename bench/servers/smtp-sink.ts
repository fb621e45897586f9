/**
 * The SMTP server the e-mail benchmark sends to, in a process of its own (smtp-server on loopback, plain SMTP): it
 * accepts every message, reads it to the end without parsing it (the benchmark measures the senders, not a parser),
 * and counts. A small HTTP control port on loopback answers `GET /stats` ({ accepted, firstAt, lastAt } since the
 * last reset, times in ms since the epoch as this machine's clock gives them) and `POST /reset`.
 *
 * Settings (environment): SMTP_PORT, CONTROL_PORT.
 */
import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';

const smtpPort = Number(process.env.SMTP_PORT);
const controlPort = Number(process.env.CONTROL_PORT);

let accepted = 0;
let firstAt: number | null = null;
let lastAt: number | null = null;
let bytes = 0;

const smtp = new SMTPServer({
  logger: false,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: 10 * 1024 * 1024,
  // Many pooled connections at once, from two senders in turn.
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => {
      const now = Date.now();
      accepted += 1;
      firstAt ??= now;
      lastAt = now;
      callback();
    });
  },
});
// A sender that is stopped mid-session resets its connection; keep serving the others.
smtp.on('error', () => {});

const control = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/reset') {
    accepted = 0;
    firstAt = null;
    lastAt = null;
    bytes = 0;
    response.writeHead(204).end();
    return;
  }
  if (request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ accepted, firstAt, lastAt, bytes }));
    return;
  }
  response.writeHead(404).end();
});

smtp.listen(smtpPort, '127.0.0.1', () => {
  control.listen(controlPort, '127.0.0.1', () => process.stdout.write('listening\n'));
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    control.close();
    smtp.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
