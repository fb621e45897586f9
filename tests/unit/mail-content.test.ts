/**
 * The richer announcement e-mail and the acknowledgement reminder, as pure functions: times in Europe/Oslo (summer and
 * winter, across days), sizes, resolved and importance prefixes, no List-Unsubscribe without a subscription, and user
 * text escaped everywhere it enters markup. Plus the e-mail processor's skip rules per delivery kind.
 */
import { describe, expect, it } from 'vitest';
import {
  ackReminderSubject,
  announcementSubject,
  composeAckReminderEmail,
  composeAnnouncementEmail,
} from '../../src/mail/compose.js';
import { formatOsloTime, formatOsloWindow, formatSize } from '../../src/mail/templates.js';
import { SKIP_REASON, skipReason } from '../../workers/processors/email.js';

const base = {
  deliveryId: 7n,
  to: 'kari@example.org',
  from: 'noreply@example.no',
  publicUrl: 'https://meldingskanal.example.no',
  channelTitle: 'Drift',
};

describe('times and sizes', () => {
  it('writes times in Europe/Oslo, summer and winter', () => {
    expect(formatOsloTime('nb', new Date('2026-07-01T10:00:00Z'))).toBe('onsdag 1. juli 2026 kl. 12:00');
    expect(formatOsloTime('en', new Date('2026-01-15T10:00:00Z'))).toBe('Thursday, 15 January 2026 at 11:00');
  });

  it('shortens a window within one Oslo day and spells out one across days', () => {
    const start = new Date('2026-12-03T17:00:00Z');
    expect(formatOsloWindow('nb', start, new Date('2026-12-03T19:30:00Z'))).toBe(
      'torsdag 3. desember 2026 kl. 18:00–20:30',
    );
    // 23:30 UTC is already the next day in Oslo.
    expect(formatOsloWindow('en', start, new Date('2026-12-03T23:30:00Z'))).toBe(
      'Thursday, 3 December 2026 at 18:00 – Friday, 4 December 2026 at 00:30',
    );
    expect(formatOsloWindow('nb', null, null)).toBeUndefined();
  });

  it('formats sizes in decimal units with the language’s decimal sign', () => {
    expect(formatSize('nb', 532)).toBe('532 B');
    expect(formatSize('nb', 20_000_000)).toBe('20 MB');
    expect(formatSize('nn', 1_250_000)).toBe('1,3 MB');
    expect(formatSize('en', 1_250_000)).toBe('1.3 MB');
    expect(formatSize('en', 4_321)).toBe('4.3 kB');
  });
});

describe('subjects', () => {
  it('marks an incident follow-up resolved in each language, after the importance word', () => {
    const resolved = { title: 'Nettet virker', importance: 'info' as const, resolvesIncident: true };
    expect(announcementSubject('nb', 'Drift', resolved)).toBe('[Drift] Løst: Nettet virker');
    expect(announcementSubject('nn', 'Drift', resolved)).toBe('[Drift] Løyst: Nettet virker');
    expect(announcementSubject('en', 'Drift', resolved)).toBe('[Drift] Resolved: Nettet virker');
    expect(announcementSubject('nb', 'Drift', { ...resolved, importance: 'critical' })).toBe(
      '[Drift] Kritisk: Løst: Nettet virker',
    );
  });

  it('keeps CR/LF out of the reminder subject', () => {
    expect(ackReminderSubject('en', 'Drift\r\nBcc: x@example.org', 'A\nB')).toBe(
      '[Drift Bcc: x@example.org] Reminder: please confirm you have read “A B”',
    );
  });
});

describe('composing', () => {
  it('leaves out List-Unsubscribe when there is no subscription to leave', () => {
    const mail = composeAnnouncementEmail({
      ...base,
      language: 'nb',
      announcement: { title: 'T', body: 'B', importance: 'info' },
      unsubscribeToken: null,
    });
    expect(mail.headers).not.toHaveProperty('List-Unsubscribe');
    expect(mail.headers).not.toHaveProperty('List-Unsubscribe-Post');
    expect(mail.text).not.toContain('/unsubscribe');
    expect(mail.headers['Auto-Submitted']).toBe('auto-generated');
  });

  it('escapes summary, affected system, attachment names and URLs in the HTML part', () => {
    const evil = '<img src=x onerror=alert(1)>"\'';
    const mail = composeAnnouncementEmail({
      ...base,
      language: 'en',
      announcement: {
        title: evil,
        body: 'Body',
        importance: 'important',
        summary: evil,
        type: 'maintenance',
        affectedSystem: evil,
        startsAt: new Date('2026-12-03T17:00:00Z'),
        endsAt: new Date('2026-12-03T19:00:00Z'),
        calendarUrl: 'https://meldingskanal.example.no/api/v1/announcements/x/calendar.ics?"onmouseover=alert(1)',
        attachments: [{ filename: evil, size: 10, url: 'https://meldingskanal.example.no/a/"><script>alert(1)' }],
        url: 'https://meldingskanal.example.no/api/v1/announcements/x',
      },
      unsubscribeToken: '1.abc',
    });
    expect(mail.html).not.toMatch(/<img|<script|"onmouseover|"><script/i);
    expect(mail.html).toContain('calendar.ics?&quot;onmouseover=alert(1)"');
    expect(mail.html).toContain('href="https://meldingskanal.example.no/a/&quot;&gt;&lt;script&gt;alert(1)"');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;');
  });

  it('builds a reminder with the deadline, the link to the announcement and a Message-ID of its own delivery', () => {
    const mail = composeAckReminderEmail({
      ...base,
      deliveryId: 99n,
      language: 'nb',
      title: 'Ny rutine',
      contentLanguage: 'nb',
      deadline: new Date('2026-07-01T10:00:00Z'),
      url: 'https://meldingskanal.example.no/api/v1/announcements/abc',
      unsubscribeToken: '1.abc',
    });
    expect(mail.subject).toBe('[Drift] Påminnelse: bekreft at du har lest «Ny rutine»');
    expect(mail.messageId).toBe('<delivery-99@meldingskanal.example.no>');
    expect(mail.text).toContain('Fristen er onsdag 1. juli 2026 kl. 12:00 (norsk tid).');
    expect(mail.text).toContain('https://meldingskanal.example.no/api/v1/announcements/abc');
    expect(mail.html).toContain('<html lang="nb">');
    expect(mail.headers['List-Unsubscribe']).toBe('<https://meldingskanal.example.no/unsubscribe?token=1.abc>');
  });
});

describe('skipReason', () => {
  const row = {
    id: 1n,
    attempts: 1,
    recipient: 'user:u',
    kind: 'announcement',
    announcementId: 'a',
    subscriptionId: 5n,
    emailMode: 'immediate' as const,
    subscriptionLanguage: 'nb' as const,
    isUserRecipient: true,
    userEmail: 'u@example.org',
    userLanguage: 'nb' as const,
    bareAddress: null,
    importance: 'info' as const,
    announcementStatus: 'published',
    ackRequired: true,
    channelTitle: 'Drift',
    readsChannel: true,
    inAudience: true,
    gotIncident: false,
    acknowledged: false,
  };

  it('sends what may be sent, and says why not otherwise', () => {
    expect(skipReason(row)).toBeUndefined();
    expect(skipReason({ ...row, kind: 'digest' })).toBe(SKIP_REASON.unsupportedKind);
    expect(skipReason({ ...row, inAudience: false })).toBe(SKIP_REASON.audience);
    expect(skipReason({ ...row, readsChannel: false })).toBe(SKIP_REASON.noAccess);
    expect(skipReason({ ...row, emailMode: 'daily' })).toBe(SKIP_REASON.digestMode);
    // Expired since the fan-out: not sent (a retraction notice still is, see the notices tests).
    expect(skipReason({ ...row, expired: true })).toBe(SKIP_REASON.announcementExpired);
    expect(skipReason({ ...row, kind: 'ack_reminder', subscriptionId: null, emailMode: null, expired: true })).toBe(
      SKIP_REASON.announcementExpired,
    );
    expect(skipReason({ ...row, kind: 'retraction', announcementStatus: 'retracted', expired: true })).not.toBe(
      SKIP_REASON.announcementExpired,
    );
    // A follow-up to someone who got the incident is not held back by the subscription.
    expect(skipReason({ ...row, emailMode: 'off', gotIncident: true })).toBeUndefined();
    expect(skipReason({ ...row, subscriptionId: null, emailMode: null, gotIncident: true })).toBeUndefined();
  });

  it('for reminders: acknowledged, no longer asked, bare addresses', () => {
    const reminder = { ...row, kind: 'ack_reminder', subscriptionId: null, emailMode: null };
    expect(skipReason(reminder)).toBeUndefined();
    expect(skipReason({ ...reminder, acknowledged: true })).toBe(SKIP_REASON.acknowledged);
    expect(skipReason({ ...reminder, ackRequired: false })).toBe(SKIP_REASON.ackNotRequired);
    expect(skipReason({ ...reminder, isUserRecipient: false, bareAddress: 'b@example.org' })).toBe(
      SKIP_REASON.notAUser,
    );
  });
});
