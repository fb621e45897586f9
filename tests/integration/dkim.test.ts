/**
 * What an announcement e-mail carries on the wire, through the e-mail processor, the SMTP mailer and the in-process
 * SMTP server: a DKIM signature checked by an independent verifier (mailauth, with the public key served by a
 * resolver instead of DNS) whose signed headers cover List-Unsubscribe and List-Unsubscribe-Post; List-Unsubscribe
 * with the https URI first and the mailto: one after it; and the From name of the channel's organisation.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, ConfigError, loadConfig } from '../../src/config.js';
import { DKIM_SIGNED_HEADERS } from '../../src/mail/dkim.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { parseUnsubscribeToken, verifyUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { type ConfirmationProcessorDeps, processConfirmation } from '../../workers/processors/confirmation.js';
import { type EmailProcessorDeps, processEmailJob } from '../../workers/processors/email.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import {
  createAnnouncement,
  createSubscription,
  deliveriesOf,
  silentLogger,
  uniqueAddress,
} from '../helpers/delivery.js';
import { createChannel } from '../helpers/factories.js';
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

interface DkimResult {
  signingDomain: string;
  selector: string;
  signingHeaders: { keys: string };
  status: { result: string; comment: string | false };
}
// mailauth is CommonJS without types; the verifier is all this test needs of it.
const { dkimVerify } = createRequire(import.meta.url)('mailauth/lib/dkim/verify') as {
  dkimVerify: (
    message: Buffer,
    options: { resolver: (name: string, type: string) => Promise<string[][]> },
  ) => Promise<{ results: DkimResult[] }>;
};

const MAIL_FROM = 'BOTT Meldingskanal <noreply@uio.no>';
const MAILTO = 'unsubscribe@uio.no';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** The TXT record an operator publishes at mk2027._domainkey.uio.no. */
const TXT = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let emailDeps: EmailProcessorDeps;
let confirmationDeps: ConfirmationProcessorDeps;
const lookups: string[] = [];

async function resolver(name: string, type: string): Promise<string[][]> {
  lookups.push(`${type} ${name}`);
  if (type === 'TXT' && name === 'mk2027._domainkey.uio.no') return [[TXT]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
}

function verify(raw: string): Promise<{ results: DkimResult[] }> {
  return dkimVerify(Buffer.from(raw), { resolver });
}

function header(mail: ReceivedMail, name: string): string | undefined {
  const prefix = `${name.toLowerCase()}:`;
  return mail.headerLines
    .find((line) => line.toLowerCase().startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({
    PUBLIC_URL: 'https://meldingskanal.example.no',
    MAIL_FROM,
    UNSUBSCRIBE_MAILTO: MAILTO,
    DKIM_DOMAIN: 'uio.no',
    DKIM_SELECTOR: 'mk2027',
    // As an environment variable usually carries it: one line, with literal \n.
    DKIM_PRIVATE_KEY: PEM.trim().replace(/\n/g, '\\n'),
  });
  const config: Config = ctx.config;
  mailer = createSmtpMailer({
    url: smtp.url,
    poolSize: 2,
    maxMessages: 1000,
    ratePerSecond: 0,
    dkim: config.mail.dkim,
  });
  emailDeps = {
    db: ctx.deps.db,
    mailer,
    emailQueue: ctx.deps.queues.email,
    unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
    publicUrl: config.http.publicUrl,
    from: config.mail.from,
    unsubscribeMailto: config.unsubscribeMailto,
    maxAttempts: 3,
    logger: silentLogger,
  };
  confirmationDeps = {
    db: ctx.deps.db,
    mailer,
    signingKey: TEST_UNSUBSCRIBE_SECRET,
    publicUrl: config.http.publicUrl,
    from: config.mail.from,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
});

/** A channel (of an organisation with this name, if given) with one bare-address subscriber, sent one announcement. */
async function sendAnnouncement(organisationName?: string): Promise<{ mail: ReceivedMail; subscriptionId: bigint }> {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: 'Drift' });
  if (organisationName) {
    const code = `org-${channel.slug}`;
    const organisation = await db.organisation.create({
      data: { code, name: organisationName, realm: `${code}.example.no` },
    });
    await db.channel.update({ where: { id: channel.id }, data: { organisationId: organisation.id } });
  }
  const address = uniqueAddress('dkim');
  const subscription = await createSubscription(db, { channelId: channel.id, email: address });
  const announcement = await createAnnouncement(db, { channelId: channel.id, title: 'Planlagt vedlikehold' });
  await processFanout(
    { announcementId: announcement.id },
    { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
  );
  const ids = (await deliveriesOf(db, announcement.id)).map((delivery) => String(delivery.id));
  expect(await processEmailJob({ deliveryIds: ids }, emailDeps)).toMatchObject({ sent: 1 });
  const [mail] = smtp.messagesTo(address);
  expect(mail).toBeDefined();
  return { mail: mail!, subscriptionId: subscription.id };
}

describe('DKIM', () => {
  it('signs with the configured key; an independent verifier passes it, covering the unsubscribe headers', async () => {
    const { mail } = await sendAnnouncement('Universitetet i Oslo');
    const { results } = await verify(mail.raw);

    expect(results).toHaveLength(1);
    const [result] = results as [DkimResult];
    expect(result.status.result).toBe('pass');
    expect(result.signingDomain).toBe('uio.no');
    expect(result.selector).toBe('mk2027');
    expect(lookups).toContain('TXT mk2027._domainkey.uio.no');
    const signed = result.signingHeaders.keys
      .toLowerCase()
      .split(':')
      .map((name) => name.trim());
    for (const name of [
      'from',
      'to',
      'subject',
      'date',
      'message-id',
      'mime-version',
      'content-type',
      'list-unsubscribe',
      'list-unsubscribe-post',
      'auto-submitted',
    ]) {
      expect(signed, name).toContain(name);
    }
    // Exactly the configured list, minus the headers this message does not have (Cc, Reply-To…).
    expect(signed).toEqual(DKIM_SIGNED_HEADERS.map((name) => name.toLowerCase()).filter((name) => header(mail, name)));
    expect(header(mail, 'DKIM-Signature')).toMatch(/\bc=relaxed\/relaxed\b.*\bd=uio\.no\b.*\bs=mk2027\b/);
  });

  it('fails verification when List-Unsubscribe or List-Unsubscribe-Post is changed in transit', async () => {
    const { mail } = await sendAnnouncement();
    expect((await verify(mail.raw)).results[0]?.status.result).toBe('pass');

    // The header is folded (CRLF + space) after its name: \s spans the fold.
    const swapped = mail.raw.replace(
      /^(List-Unsubscribe:\s*<https:\/\/)meldingskanal\.example\.no\//m,
      '$1attacker.example.com/',
    );
    expect(swapped).not.toBe(mail.raw);
    expect((await verify(swapped)).results[0]?.status.result).toBe('fail');

    const noOneClick = mail.raw.replace(
      /^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m,
      'List-Unsubscribe-Post: x',
    );
    expect(noOneClick).not.toBe(mail.raw);
    expect((await verify(noOneClick)).results[0]?.status.result).toBe('fail');
  });

  it('is all-or-none in the configuration, and a key that cannot be read stops the start with a clear message', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        if (error instanceof ConfigError) return [...error.problems];
        throw error;
      }
    };
    expect(problems({ DKIM_DOMAIN: 'uio.no' })).toEqual([
      'DKIM_SELECTOR, DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE) must be set too: DKIM signing needs a domain, a selector and a key, or none of them',
    ]);
    const garbage = problems({
      DKIM_DOMAIN: 'uio.no',
      DKIM_SELECTOR: 'mk2027',
      DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----',
    });
    expect(garbage).toEqual([expect.stringMatching(/^DKIM_PRIVATE_KEY is not a PEM private key that can be read/)]);
    expect(garbage.join('')).not.toContain('bm90IGEga2V5');
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(problems({ DKIM_DOMAIN: 'uio.no', DKIM_SELECTOR: 'mk2027', DKIM_PRIVATE_KEY: ed25519 })).toEqual([
      expect.stringMatching(/^DKIM_PRIVATE_KEY must be an RSA key/),
    ]);

    const file = join(mkdtempSync(join(tmpdir(), 'dkim-')), 'private.pem');
    writeFileSync(file, PEM);
    const fromFile = loadConfig({ DKIM_DOMAIN: 'UiO.no', DKIM_SELECTOR: 'mk2027', DKIM_PRIVATE_KEY_FILE: file });
    expect(fromFile.mail.dkim).toEqual({ domainName: 'uio.no', keySelector: 'mk2027', privateKey: PEM });
    expect(
      problems({ DKIM_DOMAIN: 'uio.no', DKIM_SELECTOR: 'mk2027', DKIM_PRIVATE_KEY_FILE: `${file}.missing` }),
    ).toEqual([`DKIM_PRIVATE_KEY_FILE cannot be read (ENOENT): ${file}.missing`]);
    expect(
      problems({ DKIM_DOMAIN: 'uio.no', DKIM_SELECTOR: 'mk2027', DKIM_PRIVATE_KEY: PEM, DKIM_PRIVATE_KEY_FILE: file }),
    ).toEqual(['DKIM_PRIVATE_KEY and DKIM_PRIVATE_KEY_FILE are both set: set one of them']);
    expect(loadConfig({}).mail.dkim).toBeUndefined();
  });
});

describe('List-Unsubscribe with UNSUBSCRIBE_MAILTO', () => {
  it('lists the https URI first and a mailto: URI with the same signed token after it', async () => {
    const { mail, subscriptionId } = await sendAnnouncement();
    const value = header(mail, 'List-Unsubscribe');
    const match =
      /^<(https:\/\/meldingskanal\.example\.no\/unsubscribe\?token=([^>]+))>, <mailto:([^?>]+)\?subject=([^>]+)>$/.exec(
        value ?? '',
      );
    expect(match, value).not.toBeNull();
    const [, , urlToken, mailbox, subject] = match as unknown as [string, string, string, string, string];
    expect(mailbox).toBe(MAILTO);
    const token = decodeURIComponent(urlToken);
    expect(subject).toBe(`unsubscribe%20${token}`);
    expect(decodeURIComponent(subject)).toBe(`unsubscribe ${token}`);
    const parsed = parseUnsubscribeToken(token);
    expect(parsed?.subscriptionId).toBe(subscriptionId);
    expect(verifyUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, parsed!, `email:${mail.envelope.to[0]}`)).toBe(true);
    expect(header(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
  });
});

describe('the sender name', () => {
  it("is the channel's organisation, quoted safely whatever its name holds", async () => {
    const { mail } = await sendAnnouncement('Universitetet "i" Oslo, <IT>\r\nBcc: victim@example.org');
    expect(mail.parsed.from?.value).toEqual([
      { name: 'Meldingskanal – Universitetet "i" Oslo, <IT> Bcc: victim@example.org', address: 'noreply@uio.no' },
    ]);
    // The name never becomes a header of its own nor a second address.
    expect(mail.headerLines.filter((line) => /^bcc:/i.test(line))).toEqual([]);
    expect(mail.envelope.to).toHaveLength(1);
    expect(mail.envelope.from).toBe('noreply@uio.no');
    expect((await verify(mail.raw)).results[0]?.status.result).toBe('pass');
  });

  it("is MAIL_FROM's own name for a channel without an organisation", async () => {
    const { mail } = await sendAnnouncement();
    expect(mail.parsed.from?.value).toEqual([{ name: 'BOTT Meldingskanal', address: 'noreply@uio.no' }]);
  });

  it('names the organisation in confirmation e-mails too', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'Drift' });
    const organisation = await db.organisation.create({
      data: { code: `org-${channel.slug}`, name: 'OsloMet', realm: `${channel.slug}.example.no` },
    });
    await db.channel.update({ where: { id: channel.id }, data: { organisationId: organisation.id } });
    const email = uniqueAddress('confirm');
    const row = await db.subscription.create({
      data: { channelId: channel.id, email, source: 'self', confirmationSentAt: new Date(), confirmationsSent: 1 },
    });
    const job = { subscriptionId: String(row.id), requestedAt: row.confirmationSentAt!.getTime() };
    expect(await processConfirmation(job, confirmationDeps)).toEqual({ status: 'sent' });
    const [mail] = await (async () => {
      await smtp.waitForMessages(1);
      return smtp.messagesTo(email);
    })();
    expect(mail?.parsed.from?.value).toEqual([{ name: 'Meldingskanal – OsloMet', address: 'noreply@uio.no' }]);
    expect((await verify(mail!.raw)).results[0]?.status.result).toBe('pass');
  });
});
