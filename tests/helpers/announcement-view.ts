/** A complete AnnouncementView for tests that build live events by hand (the fields a real one has). */
import type { AnnouncementRecord } from '../../src/db/announcement-records.js';
import { type AnnouncementView, announcementView } from '../../src/services/views.js';

export function sampleRecord(overrides: Partial<AnnouncementRecord> = {}): AnnouncementRecord {
  const at = new Date('2026-11-26T12:00:00.000Z');
  return {
    id: '00000000-0000-4000-8000-000000000001',
    channelId: 'channel-id',
    channelSlug: 'channel',
    channelVisibility: 'public',
    authorName: null,
    status: 'published',
    importance: 'info',
    type: 'general',
    versions: [{ language: 'nb', title: 'Tittel', summary: null, body: 'Tekst' }],
    affectedSystem: null,
    startsAt: null,
    endsAt: null,
    resolvesId: null,
    resolvedById: null,
    audienceOrganisationIds: [],
    audience: [],
    publishedAt: at,
    publishAt: null,
    expiresAt: null,
    retractedAt: null,
    pinnedAt: null,
    pinnedUntil: null,
    revision: 1,
    editedAt: null,
    ackRequired: false,
    ackDeadline: null,
    createdAt: at,
    updatedAt: at,
    attachments: [],
    ...overrides,
  };
}

/** A view as the server builds it, with `fields` replacing what a test cares about. */
export function sampleAnnouncementView(fields: Partial<AnnouncementView> = {}): AnnouncementView {
  return { ...announcementView(sampleRecord(), { publicUrl: 'http://localhost:3000', language: null }), ...fields };
}
