/** liveEventOf: which outbox events become live events, and what they carry (src/realtime/events.ts). */

import { describe, expect, it } from 'vitest';
import { liveEventOf } from '../../src/realtime/events.js';
import { sampleRecord } from '../helpers/announcement-view.js';

const PUBLIC_URL = 'https://meldingskanal.example.org';
const NOW = new Date('2026-11-26T15:00:00.000Z');
const UIO = '7d0c1f5e-8d1e-4a43-9d7d-6f3c2b1a0e9f';

const record = sampleRecord({
  channelSlug: 'drift',
  audienceOrganisationIds: [UIO],
  audience: [{ id: UIO, code: 'UiO' }],
  versions: [
    { language: 'nn', title: 'Nedetid', summary: null, body: 'Systemet er nede.' },
    { language: 'en', title: 'Downtime', summary: 'Short', body: 'The system is down.' },
  ],
  revision: 3,
});

/** An outbox row the relay positioned at 42 (its id, 7, is not what clients see). */
function outbox(type: string, payload: unknown = { announcementId: record.id }) {
  return { id: 7n, position: 42n, type, channelId: 'channel-id', payload };
}

describe('liveEventOf', () => {
  it('carries the position as eventId, the audience and one view per language version, the original first', () => {
    const event = liveEventOf(outbox('announcement.published'), record, PUBLIC_URL, NOW);
    expect(event).toMatchObject({
      eventId: '42',
      type: 'announcement.published',
      channelId: 'channel-id',
      channel: 'drift',
      audienceOrganisationIds: [UIO],
    });
    if (event?.type !== 'announcement.published') throw new Error('not a publication');
    expect(event.announcements.map((view) => [view.language, view.title, view.languages, view.audience])).toEqual([
      ['nn', 'Nedetid', ['nn', 'en'], ['UiO']],
      ['en', 'Downtime', ['nn', 'en'], ['UiO']],
    ]);
  });

  it('takes revision and material from an edit’s payload, and reads a missing material flag as minor', () => {
    const material = liveEventOf(
      outbox('announcement.updated', { announcementId: record.id, revision: 2, material: true }),
      record,
      PUBLIC_URL,
      NOW,
    );
    expect(material).toMatchObject({ type: 'announcement.updated', revision: 2, material: true });
    const bare = liveEventOf(outbox('announcement.updated', { announcementId: record.id }), record, PUBLIC_URL, NOW);
    expect(bare).toMatchObject({ type: 'announcement.updated', revision: 3, material: false });
  });

  it('sends a retraction with the id and the audience only', () => {
    const retracted = { ...record, status: 'retracted' as const };
    expect(liveEventOf(outbox('announcement.retracted'), retracted, PUBLIC_URL, NOW)).toEqual({
      eventId: '42',
      type: 'announcement.retracted',
      channelId: 'channel-id',
      channel: 'drift',
      audienceOrganisationIds: [UIO],
      announcementId: record.id,
    });
  });

  it.each([
    ['a publication of a retracted announcement', 'announcement.published', { status: 'retracted' as const }],
    ['an edit of a retracted announcement', 'announcement.updated', { status: 'retracted' as const }],
    ['a draft', 'announcement.published', { status: 'draft' as const, publishedAt: null }],
    ['a scheduled one', 'announcement.published', { status: 'scheduled' as const, publishedAt: null }],
    ['an expired announcement', 'announcement.published', { expiresAt: new Date('2026-11-26T14:59:59.000Z') }],
    ['an edit of an expired announcement', 'announcement.updated', { expiresAt: NOW }],
  ])('sends nothing for %s', (_what, type, changes) => {
    expect(liveEventOf(outbox(type), { ...record, ...changes }, PUBLIC_URL, NOW)).toBeNull();
  });

  it('sends nothing for an event of another type, nor for an announcement that was deleted', () => {
    expect(liveEventOf(outbox('announcement.scheduled'), record, PUBLIC_URL, NOW)).toBeNull();
    expect(liveEventOf(outbox('announcement.published'), null, PUBLIC_URL, NOW)).toBeNull();
  });

  it('still sends an announcement that expires later', () => {
    const later = { ...record, expiresAt: new Date('2026-11-26T15:00:01.000Z') };
    expect(liveEventOf(outbox('announcement.published'), later, PUBLIC_URL, NOW)?.type).toBe('announcement.published');
  });
});
