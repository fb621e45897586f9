/** The development mail catcher receives mail over SMTP and shows it in its web inbox. */
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DevMailCatcher, needsDevMailCatcher, startDevMailCatcher } from '../../src/mail/dev-catcher.js';
import { waitFor } from '../helpers/wait.js';

let catcher: DevMailCatcher | undefined;

afterAll(async () => {
  await catcher?.stop();
});

describe('needsDevMailCatcher', () => {
  it('is true only in development without SMTP_URL', () => {
    expect(needsDevMailCatcher(loadConfig({}))).toBe(true);
    expect(needsDevMailCatcher(loadConfig({ SMTP_URL: 'smtp://relay:25', MAIL_FROM: 'a@b.no' }))).toBe(false);
    const production = loadConfig({
      APP_ENV: 'production',
      SMTP_URL: 'smtp://relay:25',
      MAIL_FROM: 'a@b.no',
      UNSUBSCRIBE_SECRET: 'x'.repeat(32),
      PUBLIC_URL: 'https://meldingskanal.example.no',
      OIDC_ISSUER: 'https://auth.dataporten.no',
      OIDC_CLIENT_ID: 'meldingskanal',
    });
    expect(needsDevMailCatcher(production)).toBe(false);
  });
});

describe('startDevMailCatcher', () => {
  it('accepts mail over SMTP and lists it in the web inbox', async () => {
    catcher = await startDevMailCatcher({ smtpPort: 0, webPort: 0 });
    expect(catcher.smtpUrl).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
    expect(catcher.webUrl).toMatch(/^http:\/\/localhost:\d+$/);

    const transport = nodemailer.createTransport(catcher.smtpUrl);
    await transport.sendMail({
      from: 'meldingskanal@localhost',
      to: 'someone@example.org',
      subject: 'Driftsmelding fra catcher-testen',
      text: 'Hei',
    });
    transport.close();

    const webUrl = catcher.webUrl.replace('localhost', '127.0.0.1');
    const emails = await waitFor(
      async () => {
        const res = await fetch(`${webUrl}/api/email`);
        const list = (await res.json()) as { subject: string }[];
        return list.length > 0 && list;
      },
      { what: 'the e-mail in the catcher inbox' },
    );
    expect(emails.map((e) => e.subject)).toContain('Driftsmelding fra catcher-testen');
  });

  it('opens its inbox at the address it prints, whatever the client accepts', async () => {
    const webUrl = catcher!.webUrl.replace('localhost', '127.0.0.1');
    for (const accept of ['*/*', 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', undefined]) {
      const response = await fetch(`${webUrl}/`, accept ? { headers: { accept } } : {});
      expect(response.status, String(accept)).toBe(200);
      expect(response.headers.get('content-type'), String(accept)).toMatch(/^text\/html/);
      expect(await response.text(), String(accept)).toMatch(/<!doctype html>/i);
    }
    // Its API stays JSON.
    expect((await fetch(`${webUrl}/api/email`)).headers.get('content-type')).toMatch(/json/);
  });

  it('explains how to fix a port that is taken', async () => {
    const port = Number(new URL(catcher!.smtpUrl).port);
    await expect(startDevMailCatcher({ smtpPort: port, webPort: 0 })).rejects.toThrow(/MAILDEV_SMTP_PORT/);
  });
});
