/**
 * An SMTP server for volume: it accepts everything and records, per message, only the recipients, the Message-ID and
 * the arrival time — no MIME parsing — so a test can count tens of thousands of messages (tests/helpers/smtp.ts
 * parses every message, which is right for content tests and too slow for these). `onMessage` runs before the 250
 * reply, with the count so far, so a fault test can kill or stop a sender at an exact point of a run.
 */
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.js';

export interface CountedMail {
  to: string[];
  messageId: string;
  at: number;
}

export interface CountingSmtpServer {
  url: string;
  readonly messages: CountedMail[];
  /** Message-IDs received per recipient (lower case), in arrival order. */
  byRecipient(filter?: (address: string) => boolean): Map<string, string[]>;
  waitForCount(count: number, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const MESSAGE_ID = /^message-id:[ \t]*(<[^>\r\n]+>)/im;

export async function startCountingSmtpServer(
  options: { onMessage?: (count: number, mail: CountedMail) => void } = {},
): Promise<CountingSmtpServer> {
  const messages: CountedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        // The headers come first; 8 KiB holds them.
        if (head.length < 8192) head += chunk.toString('utf8');
      });
      stream.on('end', () => {
        const mail: CountedMail = {
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          messageId: MESSAGE_ID.exec(head.replace(/\r?\n[ \t]+/g, ' '))?.[1] ?? '',
          at: Date.now(),
        };
        messages.push(mail);
        options.onMessage?.(messages.length, mail);
        callback();
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
  // A sender killed mid-session resets its connection: nothing was accepted, keep listening.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('SMTP server has no port');

  return {
    url: `smtp://127.0.0.1:${address.port}`,
    messages,
    byRecipient(filter) {
      const map = new Map<string, string[]>();
      for (const mail of messages) {
        for (const to of mail.to) {
          if (filter && !filter(to)) continue;
          const ids = map.get(to);
          if (ids) ids.push(mail.messageId);
          else map.set(to, [mail.messageId]);
        }
      }
      return map;
    },
    async waitForCount(count, what, timeoutMs = 60_000) {
      await waitFor(() => messages.length >= count, { what: `${what} (${count} messages)`, timeoutMs, intervalMs: 50 });
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
