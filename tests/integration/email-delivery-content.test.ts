/**
 * What an announcement e-mail says, over a real SMTP server: the language version for the subscription (with the
 * documented fallback), the summary above the body, a maintenance window in Europe/Oslo time with its .ics link, and
 * attachments as links — never as attached files.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Language } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { type EmailProcessorDeps, processEmailJob } from '../../workers/processors/email.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription, deliveriesOf, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let deps: EmailProcessorDeps;
const PUBLIC_URL = 'https://meldingskanal.example.no';

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  deps = {
    db: ctx.deps.db,
    mailer,
    emailQueue: ctx.deps.queues.email,
    unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
    publicUrl: ctx.config.http.publicUrl,
    from: 'BOTT Meldingskanal <noreply@example.no>',
    maxAttempts: 3,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

/** Subscribers in these languages, the announcement made by `make`, fanned out and sent; the mail per address. */
async function sendTo(languages: Language[], make: (channelId: string) => Promise<string>) {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: 'IT-drift' });
  const addresses = languages.map((language) => ({ language, address: uniqueAddress(language) }));
  for (const { language, address } of addresses) {
    await createSubscription(db, { channelId: channel.id, email: address, language });
  }
  const id = await make(channel.id);
  await processFanout(
    { announcementId: id },
    { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
  );
  const ids = (await deliveriesOf(db, id)).map((d) => String(d.id));
  expect(await processEmailJob({ deliveryIds: ids }, deps)).toMatchObject({ sent: languages.length });
  return {
    id,
    mail: Object.fromEntries(addresses.map(({ language, address }) => [language, smtp.messagesTo(address)[0]!])),
  };
}

describe('the announcement e-mail', () => {
  it('is in the subscription language, with the fallback: nn reads bokmål, en reads the original', async () => {
    const { mail } = await sendTo(['nb', 'nn', 'en'], async (channelId) => {
      const row = await ctx.deps.db.announcement.create({
        data: {
          channelId,
          language: 'en',
          title: 'New sign-in',
          summary: 'Sign in with Feide from Monday.',
          body: 'Details in English.',
          publishedAt: new Date(),
          translations: {
            create: [{ language: 'nb', title: 'Ny innlogging', summary: 'Logg inn med Feide.', body: 'Detaljer.' }],
          },
        },
      });
      return row.id;
    });

    expect(mail.nb!.parsed.subject).toBe('[IT-drift] Ny innlogging');
    expect(mail.nb!.parsed.text).toContain('Logg inn med Feide.');
    expect(mail.nb!.parsed.html).toContain('<html lang="nb">');
    // Nynorsk readers get bokmål (the other written form) with nynorsk words around it, marked as bokmål.
    expect(mail.nn!.parsed.subject).toBe('[IT-drift] Ny innlogging');
    expect(mail.nn!.parsed.text).toContain('Kunngjering i IT-drift');
    expect(mail.nn!.parsed.html).toContain('<html lang="nn">');
    expect(mail.nn!.parsed.html).toContain('<span lang="nb">Ny innlogging</span>');
    expect(mail.en!.parsed.subject).toBe('[IT-drift] New sign-in');
    expect(mail.en!.parsed.text).toContain('Details in English.');
    expect(mail.en!.headerLines).toContain('Content-Language: en');
  });

  it('shows the summary (escaped) above the body, the maintenance window in Oslo time and links, not files', async () => {
    const { id, mail } = await sendTo(['nb', 'en'], async (channelId) => {
      const row = await ctx.deps.db.announcement.create({
        data: {
          channelId,
          title: 'Oppgradering av Canvas',
          summary: 'Canvas er <b>utilgjengelig</b> & treg',
          body: 'Vi oppgraderer.',
          type: 'maintenance',
          affectedSystem: 'Canvas',
          // 18:00–20:00 in Oslo (CET, UTC+1).
          startsAt: new Date('2026-12-03T17:00:00Z'),
          endsAt: new Date('2026-12-03T19:00:00Z'),
          publishedAt: new Date(),
        },
      });
      await ctx.deps.db.attachment.create({
        data: {
          id: randomUUID(),
          announcementId: row.id,
          filename: 'plan for nedetid.pdf',
          contentType: 'application/pdf',
          size: 1_250_000,
          sha256: 'a'.repeat(64),
          storage: 'database',
          data: Buffer.from('%PDF-1.4'),
        },
      });
      return row.id;
    });

    const { parsed } = mail.nb!;
    const html = parsed.html as string;
    expect(html).toContain('Canvas er &lt;b&gt;utilgjengelig&lt;/b&gt; &amp; treg');
    expect(html.indexOf('utilgjengelig')).toBeLessThan(html.indexOf('Vi oppgraderer.'));
    expect(parsed.text).toContain('Planlagt vedlikehold');
    expect(parsed.text).toContain('Gjelder: Canvas');
    expect(parsed.text).toContain('Tidsrom: torsdag 3. desember 2026 kl. 18:00–20:00 (norsk tid)');
    expect(html).toContain(`href="${PUBLIC_URL}/api/v1/announcements/${id}/calendar.ics"`);
    expect(parsed.text).toMatch(
      new RegExp(
        `plan for nedetid\\.pdf \\(1,3 MB\\): ${PUBLIC_URL}/api/v1/attachments/[0-9a-f-]+/plan%20for%20nedetid\\.pdf`,
      ),
    );
    expect(html).toMatch(
      /<a href="https:\/\/meldingskanal\.example\.no\/api\/v1\/attachments\/[^"]+" style="[^"]*">plan for nedetid\.pdf<\/a>/,
    );
    expect(parsed.attachments).toHaveLength(0);
    expect(parsed.text).toContain(`Les kunngjøringen i Meldingskanal: ${PUBLIC_URL}/announcements/${id}`);

    expect(mail.en!.parsed.text).toContain('Planned maintenance');
    expect(mail.en!.parsed.text).toContain('When: Thursday, 3 December 2026 at 18:00–20:00 (Norwegian time)');
    expect(mail.en!.parsed.text).toContain('(1.3 MB)');
  });
});
