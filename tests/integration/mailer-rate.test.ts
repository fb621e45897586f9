/**
 * SMTP_RATE_PER_SECOND reaches the pooled transport: against the in-process SMTP server, a mailer limited to 2
 * messages a second spreads 5 messages over (at least) three one-second windows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let smtp: TestSmtpServer;
let mailer: Mailer;
const arrivals: number[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer({ onMessage: () => arrivals.push(performance.now()) });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 2 });
});

afterAll(async () => {
  await mailer?.close();
  await smtp?.close();
});

it('sends no more than SMTP_RATE_PER_SECOND messages in a second', async () => {
  const start = performance.now();
  await Promise.all(
    [1, 2, 3, 4, 5].map((n) =>
      mailer.send({
        from: 'BOTT Meldingskanal <noreply@example.no>',
        to: `rate-${n}@example.org`,
        subject: `Message ${n}`,
        text: 'Hei',
        html: '<p>Hei</p>',
        messageId: `<rate-${n}@example.no>`,
        headers: {},
      }),
    ),
  );
  expect(arrivals).toHaveLength(5);
  // Two per window, the first window opening with the first message (after `start`): the third waits for the second
  // window, the fifth for the third. Lower bounds only: a slow machine may take longer, never shorter.
  expect(arrivals[1]! - start).toBeLessThan(arrivals[2]! - start);
  expect(arrivals[2]! - start).toBeGreaterThanOrEqual(990);
  expect(arrivals[4]! - start).toBeGreaterThanOrEqual(1990);
  expect(new Set(smtp.messages.map((m) => m.envelope.to[0])).size).toBe(5);
});
