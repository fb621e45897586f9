/**
 * A real SMTP server in the test process (smtp-server on a free port, plain SMTP on 127.0.0.1). It keeps every
 * message it accepted, parsed with mailparser, and can be told to refuse chosen recipients with a 4xx or 5xx reply,
 * a given number of times or always.
 */
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.js';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The message exactly as it arrived (headers and body). */
  raw: string;
  parsed: ParsedMail;
  /** The raw header block, unfolded, one header per entry (`Name: value`). */
  headerLines: string[];
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Messages accepted so far, in arrival order. */
  readonly messages: ReceivedMail[];
  /** Recipients refused so far (RCPT TO answered with an error), in order. */
  readonly refusals: { address: string; code: number }[];
  /**
   * Answers RCPT TO for this address with `code` (e.g. 450 or 550): `times` times, then accepts again; or always when
   * `times` is omitted.
   */
  refuse(address: string, code: number, times?: number): void;
  /** Waits until at least `count` messages have arrived and returns them. */
  waitForMessages(count: number, what?: string): Promise<ReceivedMail[]>;
  /** Messages sent to this address. */
  messagesTo(address: string): ReceivedMail[];
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /**
   * Called as each message is accepted, before the client gets its 250 reply, with the number accepted so far (a
   * fault test kills the sender at an exact point of a run).
   */
  onMessage?: (mail: ReceivedMail, count: number) => void;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const refusals: { address: string; code: number }[] = [];
  const rules = new Map<string, { code: number; remaining: number }>();

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const key = address.address.toLowerCase();
      const rule = rules.get(key);
      if (rule && rule.remaining > 0) {
        rule.remaining -= 1;
        refusals.push({ address: key, code: rule.code });
        const error = Object.assign(
          new Error(rule.code >= 500 ? 'Mailbox unavailable' : 'Mailbox busy, try again later'),
          { responseCode: rule.code },
        );
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        simpleParser(raw)
          .then((parsed) => {
            const mail = { envelope, raw, parsed, headerLines: headerLinesOf(raw) };
            messages.push(mail);
            options.onMessage?.(mail, messages.length);
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client that vanishes mid-session (a killed worker: the fault tests) resets its connection; smtp-server reports
  // that as an 'error' event, which would otherwise be thrown as uncaught. Keep listening; nothing was accepted.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('SMTP server has no port');
  const port = address.port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    refusals,
    refuse(address, code, times = Number.POSITIVE_INFINITY) {
      rules.set(address.toLowerCase(), { code, remaining: times });
    },
    waitForMessages(count, what = `${count} e-mail(s)`) {
      return waitFor(() => messages.length >= count && messages.slice(), { what });
    },
    messagesTo(address) {
      const key = address.toLowerCase();
      return messages.filter((m) => m.envelope.to.some((to) => to.toLowerCase() === key));
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerLinesOf(raw: string): string[] {
  const end = raw.search(/\r?\n\r?\n/);
  const block = end === -1 ? raw : raw.slice(0, end);
  return block
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .filter((line) => line.length > 0);
}
