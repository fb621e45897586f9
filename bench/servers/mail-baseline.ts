/**
 * The e-mail benchmark's baseline, in a process of its own: nodemailer's pooled SMTP transport sending COUNT messages
 * straight to the benchmark's SMTP server — no database, no queue, no per-recipient work. The message is the one the
 * product would send (composed once by src/mail/compose.ts from the benchmark's announcement body), each copy with its
 * own recipient and Message-ID, so both sides put the same bytes on the wire. The pool is the product's (SMTP_POOL_SIZE
 * connections, SMTP_MAX_MESSAGES per connection); at most WINDOW messages are handed to it at a time, which keeps the
 * pool busy without holding 100,000 messages in memory.
 *
 * Prints one JSON line: { sent, startedAt, finishedAt, peakRss, cpuMs } (cpuMs: the process's CPU time, start-up included).
 * Settings (environment): SMTP_URL, COUNT, POOL_SIZE, MAX_MESSAGES.
 */
import nodemailer from 'nodemailer';
import { composeAnnouncementEmail } from '../../src/mail/compose.js';
import { memoryOf } from '../lib/processes.js';
import { BENCH_BODY } from '../lib/seed.js';

const count = Number(process.env.COUNT);
const WINDOW = 500;

const template = composeAnnouncementEmail({
  deliveryId: '1',
  to: 'sub-1@bench.example.org',
  from: 'BOTT Meldingskanal <meldingskanal@example.org>',
  publicUrl: 'http://127.0.0.1',
  language: 'nb',
  channelTitle: 'BOTT bench',
  announcement: {
    title: 'Planlagt vedlikehold nr. 1',
    body: BENCH_BODY,
    importance: 'info',
    summary: null,
    contentLanguage: 'nb',
    type: 'general',
    affectedSystem: null,
    startsAt: null,
    endsAt: null,
    calendarUrl: null,
    resolvesIncident: false,
    attachments: [],
    url: 'http://127.0.0.1/api/v1/announcements/00000000-0000-0000-0000-000000000000',
  },
  unsubscribeToken: 'bench-token',
  unsubscribeMailto: undefined,
});

const transport = nodemailer.createTransport({
  pool: true,
  url: process.env.SMTP_URL,
  maxConnections: Number(process.env.POOL_SIZE ?? 10),
  maxMessages: Number(process.env.MAX_MESSAGES ?? 1000),
});

const startedAt = Date.now();
let next = 0;
let sent = 0;
let peakRss = 0;
async function lane(): Promise<void> {
  while (next < count) {
    const n = next++;
    await transport.sendMail({
      ...template,
      to: `sub-${n}@bench.example.org`,
      messageId: `<delivery-${n}@bench.example.org>`,
      xMailer: false,
    });
    sent += 1;
    if (sent % 1000 === 0) peakRss = Math.max(peakRss, memoryOf(process.pid)?.rss ?? 0);
  }
}
await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, lane));
const finishedAt = Date.now();
transport.close();
peakRss = Math.max(peakRss, memoryOf(process.pid)?.peak ?? 0);
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ sent, startedAt, finishedAt, peakRss, cpuMs })}\n`);
