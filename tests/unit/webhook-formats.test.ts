/** The webhook bodies (src/webhooks/formats.ts): standard, Slack and Teams, with their escaping and limits. */
import { describe, expect, it } from 'vitest';
import { announcementView } from '../../src/services/views.js';
import { escapeSlack, type WebhookEvent, webhookBody } from '../../src/webhooks/formats.js';
import { sampleRecord } from '../helpers/announcement-view.js';

const PUBLIC_URL = 'https://meldingskanal.example.no';
const at = new Date('2026-11-26T15:00:00.000Z');

function published(overrides: Parameters<typeof sampleRecord>[0] = {}): WebhookEvent {
  const record = sampleRecord({
    versions: [
      {
        language: 'nn',
        title: 'Nedetid i <Canvas> & co',
        summary: null,
        body: '## Kva\n\nCanvas er **nede** i kveld.',
      },
      { language: 'en', title: 'Canvas down', summary: 'Short', body: 'English body' },
    ],
    importance: 'critical',
    ...overrides,
  });
  return {
    type: 'announcement.published',
    timestamp: at,
    channelTitle: 'BOTT <IT>',
    announcement: announcementView(record, { publicUrl: PUBLIC_URL, language: null }),
  };
}

const testEvent: WebhookEvent = {
  type: 'webhook.test',
  timestamp: at,
  channelTitle: 'BOTT IT',
  channelSlug: 'bott-it',
  webhookId: '00000000-0000-4000-8000-0000000000aa',
  channelUrl: `${PUBLIC_URL}/api/v1/channels/bott-it`,
  language: 'en',
};

describe('standard', () => {
  it('is { type, timestamp, data } with the announcement view in its original language', () => {
    const body = JSON.parse(webhookBody('standard', published()));
    expect(body.type).toBe('announcement.published');
    expect(body.timestamp).toBe('2026-11-26T15:00:00.000Z');
    expect(body.data).toMatchObject({
      id: '00000000-0000-4000-8000-000000000001',
      channel: 'channel',
      language: 'nn',
      languages: ['nn', 'en'],
      title: 'Nedetid i <Canvas> & co',
      importance: 'critical',
      url: `${PUBLIC_URL}/announcements/00000000-0000-4000-8000-000000000001`,
    });
    expect(body.data.bodyHtml).toContain('<strong>nede</strong>');
  });

  it('describes a test event by its webhook and channel', () => {
    expect(JSON.parse(webhookBody('standard', testEvent))).toEqual({
      type: 'webhook.test',
      timestamp: '2026-11-26T15:00:00.000Z',
      data: {
        webhookId: testEvent.type === 'webhook.test' ? testEvent.webhookId : '',
        channel: 'bott-it',
        channelTitle: 'BOTT IT',
      },
    });
  });
});

describe('slack', () => {
  it('escapes &, < and > and nothing else', () => {
    expect(escapeSlack('<!channel> & <https://evil|click> *bold*')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil|click&gt; *bold*',
    );
  });

  it('has text and header, section, context and button blocks, escaped where Slack reads mrkdwn', () => {
    const body = JSON.parse(webhookBody('slack', published()));
    expect(body.text).toBe('Nedetid i &lt;Canvas&gt; &amp; co\nKva\n---\n\nCanvas er nede i kveld.');
    expect(body.blocks.map((block: { type: string }) => block.type)).toEqual([
      'header',
      'section',
      'context',
      'actions',
    ]);
    const [header, section, context, actions] = body.blocks;
    // plain_text is shown as written.
    expect(header.text).toEqual({ type: 'plain_text', text: 'Nedetid i <Canvas> & co', emoji: false });
    expect(section.text).toEqual({ type: 'mrkdwn', text: 'Kva\n---\n\nCanvas er nede i kveld.' });
    expect(context.elements).toEqual([
      { type: 'mrkdwn', text: 'BOTT &lt;IT&gt; · Kritisk · Publisert 2026-11-26T12:00:00.000Z' },
    ]);
    expect(actions.elements).toEqual([
      {
        type: 'button',
        text: { type: 'plain_text', text: 'Les meldinga' },
        url: `${PUBLIC_URL}/announcements/00000000-0000-4000-8000-000000000001`,
      },
    ]);
  });

  it('uses the summary when there is one, and keeps to Slack’s length limits', () => {
    const long = sampleRecord({
      versions: [{ language: 'en', title: 'T'.repeat(400), summary: `Summary ${'x'.repeat(5000)}`, body: 'Body' }],
    });
    const body = JSON.parse(
      webhookBody('slack', {
        type: 'announcement.published',
        timestamp: at,
        channelTitle: 'C',
        announcement: announcementView(long, { publicUrl: PUBLIC_URL, language: null }),
      }),
    );
    expect(body.blocks[0].text.text).toHaveLength(150);
    expect(body.blocks[0].text.text.endsWith('…')).toBe(true);
    expect(body.blocks[1].text.text.startsWith('Summary xxx')).toBe(true);
    expect(body.blocks[1].text.text.length).toBeLessThanOrEqual(3000);
    expect(body.blocks[3].elements[0].text.text).toBe('Read the announcement');
  });
});

describe('teams', () => {
  it('is a message with one Adaptive Card 1.4 attachment: TextBlocks and an Action.OpenUrl', () => {
    const body = JSON.parse(webhookBody('teams', published()));
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const [attachment] = body.attachments;
    expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = attachment.content;
    expect(card).toMatchObject({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
    });
    expect(card.body.every((block: { type: string; wrap: boolean }) => block.type === 'TextBlock' && block.wrap)).toBe(
      true,
    );
    expect(card.body.map((block: { text: string }) => block.text)).toEqual([
      'BOTT <IT> · Kritisk · Publisert 2026-11-26T12:00:00.000Z',
      'Nedetid i <Canvas> & co',
      'Kva\n---\n\nCanvas er nede i kveld.',
    ]);
    expect(card.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Les meldinga',
        url: `${PUBLIC_URL}/announcements/00000000-0000-4000-8000-000000000001`,
      },
    ]);
  });

  it('makes a test card in the requested language with a link to the channel', () => {
    const card = JSON.parse(webhookBody('teams', testEvent)).attachments[0].content;
    expect(card.body[1].text).toBe('Test message from Meldingskanal');
    expect(card.body[2].text).toBe('The webhook of the channel “BOTT IT” works.');
    expect(card.actions[0]).toEqual({
      type: 'Action.OpenUrl',
      title: 'Open the channel',
      url: `${PUBLIC_URL}/api/v1/channels/bott-it`,
    });
  });
});

describe('announcement.updated and announcement.retracted', () => {
  const inLanguage = (language: 'nb' | 'nn' | 'en') =>
    sampleRecord({
      versions: [{ language, title: 'Vedlikehold <flyttet>', summary: null, body: 'Nå **lørdag**.' }],
      revision: 3,
      editedAt: new Date('2026-11-26T16:00:00.000Z'),
    });
  const updated = (language: 'nb' | 'nn' | 'en', revisionNote: string | null): WebhookEvent => ({
    type: 'announcement.updated',
    timestamp: at,
    channelTitle: 'BOTT IT',
    announcement: announcementView(inLanguage(language), { publicUrl: PUBLIC_URL, language: null }),
    revisionNote,
  });
  const retracted = (language: 'nb' | 'nn' | 'en'): WebhookEvent => ({
    type: 'announcement.retracted',
    timestamp: at,
    channelTitle: 'BOTT IT',
    announcement: {
      id: '00000000-0000-4000-8000-000000000001',
      channel: 'bott-it',
      language,
      title: 'Vedlikehold <flyttet>',
      retractedAt: '2026-11-26T17:00:00.000Z',
    },
  });

  it('standard: updated is the view as it reads now plus revisionNote; retracted identifies it, without its text', () => {
    const body = JSON.parse(webhookBody('standard', updated('nb', 'Ny dato')));
    expect(body.type).toBe('announcement.updated');
    expect(body.data).toMatchObject({ title: 'Vedlikehold <flyttet>', revision: 3, revisionNote: 'Ny dato' });
    expect(body.data.bodyHtml).toContain('<strong>lørdag</strong>');
    expect(JSON.parse(webhookBody('standard', retracted('en')))).toEqual({
      type: 'announcement.retracted',
      timestamp: '2026-11-26T15:00:00.000Z',
      data: {
        id: '00000000-0000-4000-8000-000000000001',
        channel: 'bott-it',
        language: 'en',
        title: 'Vedlikehold <flyttet>',
        retractedAt: '2026-11-26T17:00:00.000Z',
      },
    });
  });

  it.each([
    ['nb', 'Rettet', 'Utgiverens merknad', 'Trukket tilbake'],
    ['nn', 'Retta', 'Merknaden frå utgjevaren', 'Trekt tilbake'],
    ['en', 'Corrected', "The publisher's note", 'Withdrawn'],
  ] as const)(
    'slack (%s): "%s:" with the note, "%s:" without text or button',
    (language, corrected, note, withdrawn) => {
      const edit = JSON.parse(webhookBody('slack', updated(language, 'Ny <dato>')));
      expect(edit.blocks[0].text.text).toBe(`${corrected}: Vedlikehold <flyttet>`);
      expect(edit.text).toMatch(new RegExp(`^${corrected}: Vedlikehold &lt;flyttet&gt;\n`));
      // The note is plain text: Slack reads nothing in it as markup.
      expect(edit.blocks[1]).toEqual({
        type: 'section',
        text: { type: 'plain_text', text: `${note}: Ny <dato>`, emoji: false },
      });
      expect(edit.blocks.at(-1).type).toBe('actions');
      const withdrawal = JSON.parse(webhookBody('slack', retracted(language)));
      expect(withdrawal.blocks[0].text.text).toBe(`${withdrawn}: Vedlikehold <flyttet>`);
      expect(withdrawal.blocks.map((block: { type: string }) => block.type)).toEqual(['header', 'section', 'context']);
      expect(JSON.stringify(withdrawal)).not.toContain('lørdag');
      expect(withdrawal.blocks[2].elements[0].text).toContain(`${withdrawn} 2026-11-26T17:00:00.000Z`);
    },
  );

  it.each([
    ['nb', 'Rettet', 'Trukket tilbake'],
    ['nn', 'Retta', 'Trekt tilbake'],
    ['en', 'Corrected', 'Withdrawn'],
  ] as const)(
    'teams (%s): "%s:" and "%s:" in the card title; a withdrawal has no action',
    (language, corrected, withdrawn) => {
      const card = (event: WebhookEvent) => JSON.parse(webhookBody('teams', event)).attachments[0].content;
      const edit = card(updated(language, null));
      expect(edit.body[1].text).toBe(`${corrected}: Vedlikehold <flyttet>`);
      // No note written: no note block.
      expect(edit.body).toHaveLength(3);
      expect(edit.actions).toHaveLength(1);
      const withdrawal = card(retracted(language));
      expect(withdrawal.body[1].text).toBe(`${withdrawn}: Vedlikehold <flyttet>`);
      expect(withdrawal.actions).toEqual([]);
    },
  );
});
