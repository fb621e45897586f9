import { describe, expect, it } from 'vitest';
import {
  EventFrames,
  liveFrameOf,
  parseClientFrame,
  parseEventId,
  parseLiveEvent,
  viewInLanguage,
} from '../../src/realtime/protocol.js';
import { sampleAnnouncementView } from '../helpers/announcement-view.js';

const limits = { maxChannels: 3 };

describe('parseEventId', () => {
  it('accepts non-negative decimal strings that fit a bigint', () => {
    expect(parseEventId('0')).toBe(0n);
    expect(parseEventId('42')).toBe(42n);
    expect(parseEventId('9223372036854775807')).toBe(9223372036854775807n);
  });

  it.each([
    ['a number', 42],
    ['a negative', '-1'],
    ['a leading zero', '007'],
    ['a decimal', '1.5'],
    ['empty', ''],
    ['past bigint', '9223372036854775808'],
    ['20 digits', '12345678901234567890'],
    ['spaces', ' 1'],
  ])('refuses %s', (_what, raw) => {
    expect(parseEventId(raw)).toBeNull();
  });
});

describe('parseClientFrame', () => {
  it('parses ping, subscribe (with and without since) and unsubscribe', () => {
    expect(parseClientFrame('{"type":"ping"}', limits)).toEqual({ ok: true, frame: { type: 'ping' } });
    expect(parseClientFrame('{"type":"subscribe","channels":["a","b"]}', limits)).toEqual({
      ok: true,
      frame: { type: 'subscribe', channels: ['a', 'b'] },
    });
    expect(parseClientFrame('{"type":"subscribe","channels":["a"],"since":"17"}', limits)).toEqual({
      ok: true,
      frame: { type: 'subscribe', channels: ['a'], since: '17' },
    });
    expect(parseClientFrame('{"type":"unsubscribe","channels":["a"]}', limits)).toEqual({
      ok: true,
      frame: { type: 'unsubscribe', channels: ['a'] },
    });
  });

  it('de-duplicates channels before counting them', () => {
    const parsed = parseClientFrame('{"type":"subscribe","channels":["a","b","a","c","b"]}', limits);
    expect(parsed).toEqual({ ok: true, frame: { type: 'subscribe', channels: ['a', 'b', 'c'] } });
  });

  it('refuses more channels than the limit with its own code', () => {
    const parsed = parseClientFrame('{"type":"subscribe","channels":["a","b","c","d"]}', limits);
    expect(parsed).toMatchObject({ ok: false, code: 'too_many_channels' });
  });

  it.each([
    ['not JSON', 'hello'],
    ['an array', '[]'],
    ['null', 'null'],
    ['no type', '{"channels":["a"]}'],
    ['an unknown type', '{"type":"publish"}'],
    ['an unknown field', '{"type":"ping","extra":1}'],
    ['since on unsubscribe', '{"type":"unsubscribe","channels":["a"],"since":"1"}'],
    ['missing channels', '{"type":"subscribe"}'],
    ['empty channels', '{"type":"subscribe","channels":[]}'],
    ['a non-string channel', '{"type":"subscribe","channels":[1]}'],
    ['an empty slug', '{"type":"subscribe","channels":[""]}'],
    ['a too-long slug', `{"type":"subscribe","channels":["${'a'.repeat(65)}"]}`],
    ['a numeric since', '{"type":"subscribe","channels":["a"],"since":5}'],
    ['a malformed since', '{"type":"subscribe","channels":["a"],"since":"five"}'],
  ])('reports %s as bad_frame with a message', (_what, raw) => {
    const parsed = parseClientFrame(raw, limits);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.code).toBe('bad_frame');
      expect(parsed.message.length).toBeGreaterThan(5);
    }
  });
});

describe('parseLiveEvent', () => {
  const view = sampleAnnouncementView({
    id: '0b4d0a52-6a8e-4e3f-9c55-1f2e3d4c5b6a',
    channel: 'bott-okonomi',
    title: 'Nedetid',
    body: 'Systemet er nede i kveld.',
    bodyHtml: '<p>Systemet er nede i kveld.</p>\n',
    importance: 'important',
    url: 'http://localhost:3000/api/v1/announcements/0b4d0a52-6a8e-4e3f-9c55-1f2e3d4c5b6a',
    author: { name: 'Kari Nordmann' },
    languages: ['nb', 'en'],
  });
  const english = {
    ...view,
    language: 'en' as const,
    title: 'Downtime',
    body: 'Down tonight.',
    bodyHtml: '<p>Down tonight.</p>\n',
  };
  const valid = {
    eventId: '12',
    type: 'announcement.published',
    channelId: '5f0c1f5e-8d1e-4a43-9d7d-6f3c2b1a0e9f',
    channel: 'bott-okonomi',
    audienceOrganisationIds: ['7d0c1f5e-8d1e-4a43-9d7d-6f3c2b1a0e9f'],
    announcements: [view, english],
  };
  const withView = (fields: Record<string, unknown>) => ({ ...valid, announcements: [{ ...view, ...fields }] });

  it('accepts a well-formed event and keeps only the declared fields', () => {
    const parsed = parseLiveEvent(
      JSON.stringify({ ...valid, secret: 'x', announcements: [{ ...view, authorEmail: 'a@b' }, english] }),
    );
    expect(parsed).toEqual({ ok: true, event: valid });
    expect(
      parsed.ok && parsed.event.type === 'announcement.published' && parsed.event.announcements[0],
    ).not.toHaveProperty('authorEmail');
  });

  it('renders bodyHtml from the body for an event stored before bodyHtml existed', () => {
    const { bodyHtml: _omitted, ...older } = view;
    expect(parseLiveEvent(JSON.stringify({ ...valid, announcements: [older, english] }))).toEqual({
      ok: true,
      event: valid,
    });
  });

  it('reads a former user (author null) and an event from before authors were shown (no author) as author null', () => {
    const formerUser = withView({ author: null });
    expect(parseLiveEvent(JSON.stringify(formerUser))).toEqual({ ok: true, event: formerUser });
    const { author: _omitted, ...older } = view;
    expect(parseLiveEvent(JSON.stringify({ ...valid, announcements: [older] }))).toEqual({
      ok: true,
      event: formerUser,
    });
  });

  it('accepts an announcement.updated event with material and revision', () => {
    const updated = { ...valid, eventId: '13', type: 'announcement.updated', material: false, revision: 3 };
    expect(parseLiveEvent(JSON.stringify(updated))).toEqual({ ok: true, event: updated });
  });

  it.each([
    ['not JSON', 'nope'],
    ['a numeric eventId', JSON.stringify({ ...valid, eventId: 12 })],
    ['an unknown type', JSON.stringify({ ...valid, type: 'announcement.deleted' })],
    ['no channelId', JSON.stringify({ ...valid, channelId: undefined })],
    ['no audience (it would reach everyone)', JSON.stringify({ ...valid, audienceOrganisationIds: undefined })],
    ['an audience that is not a list of ids', JSON.stringify({ ...valid, audienceOrganisationIds: [1] })],
    ['no announcements', JSON.stringify({ ...valid, announcements: undefined })],
    ['an empty list of announcements', JSON.stringify({ ...valid, announcements: [] })],
    ['the old single announcement', JSON.stringify({ ...valid, announcements: undefined, announcement: view })],
    ['a language twice', JSON.stringify({ ...valid, announcements: [view, view] })],
    ['an unknown language', JSON.stringify(withView({ language: 'de' }))],
    ['a bad importance', JSON.stringify(withView({ importance: 'urgent' }))],
    ['a missing title', JSON.stringify(withView({ title: undefined }))],
    ['an author without a name', JSON.stringify(withView({ author: {} }))],
    ['an update without material', JSON.stringify({ ...valid, type: 'announcement.updated', revision: 2 })],
    [
      'an update with revision 0',
      JSON.stringify({ ...valid, type: 'announcement.updated', material: true, revision: 0 }),
    ],
  ])('refuses %s with a reason', (_what, raw) => {
    const parsed = parseLiveEvent(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toBeTruthy();
  });
});

describe('parseLiveEvent: announcement.retracted', () => {
  const retracted = {
    eventId: '125',
    type: 'announcement.retracted',
    channelId: '6f1c1a9e-4a77-4d43-9a51-3f3b8d1f0a10',
    channel: 'nyheter',
    audienceOrganisationIds: [],
    announcementId: '0b5f3f8e-2a4e-4b8f-9d7c-1e2f3a4b5c6d',
  };

  it('accepts a retraction with its announcement id and audience, and keeps no other field', () => {
    expect(parseLiveEvent(JSON.stringify({ ...retracted, extra: 'x' }))).toEqual({ ok: true, event: retracted });
  });

  it('refuses a retraction without an announcement id', () => {
    const { announcementId: _, ...missing } = retracted;
    expect(parseLiveEvent(JSON.stringify(missing))).toEqual({ ok: false, reason: 'announcementId must be a string' });
  });
});

describe('frames for clients', () => {
  const versions = (['nb', 'nn', 'en'] as const).map((language) =>
    sampleAnnouncementView({ language, title: `title-${language}` }),
  );
  const base = { eventId: '7', channelId: 'c', channel: 'slug', audienceOrganisationIds: ['org'] };

  it('picks the version with the documented fallback (nb ↔ nn, then the original)', () => {
    const nbOnly = [versions[0]!];
    const nnAndEn = [versions[1]!, versions[2]!];
    expect(viewInLanguage(versions, 'nn').language).toBe('nn');
    expect(viewInLanguage(nbOnly, 'nn').language).toBe('nb');
    expect(viewInLanguage(nbOnly, 'en').language).toBe('nb');
    expect(viewInLanguage(nnAndEn, 'nb').language).toBe('nn');
    expect(viewInLanguage(nnAndEn, null).language).toBe('nn');
    expect(viewInLanguage([versions[2]!, versions[0]!], 'nn').language).toBe('nb');
  });

  it('leaves the audience and the other versions out of every frame', () => {
    const published = liveFrameOf({ ...base, type: 'announcement.published', announcements: versions }, 'en');
    expect(published).toEqual({
      type: 'announcement.published',
      eventId: '7',
      channelId: 'c',
      channel: 'slug',
      announcement: versions[2],
    });
    const updated = liveFrameOf(
      { ...base, type: 'announcement.updated', material: true, revision: 4, announcements: versions },
      'nn',
    );
    expect(updated).toEqual({
      type: 'announcement.updated',
      eventId: '7',
      channelId: 'c',
      channel: 'slug',
      material: true,
      revision: 4,
      announcement: versions[1],
    });
    const retracted = liveFrameOf({ ...base, type: 'announcement.retracted', announcementId: 'a' }, 'nb');
    expect(retracted).toEqual({
      type: 'announcement.retracted',
      eventId: '7',
      channelId: 'c',
      channel: 'slug',
      announcementId: 'a',
    });
  });

  it('serialises an event once per version sent, whatever the number of sockets and languages', () => {
    const frames = new EventFrames({ ...base, type: 'announcement.published', announcements: [versions[0]!] });
    const sent = (['nb', 'nn', 'en', null, 'nb'] as const).map((language) => frames.for(language));
    expect(new Set(sent).size).toBe(1);
    expect(frames.serialisations).toBe(1);
    const all = new EventFrames({ ...base, type: 'announcement.published', announcements: versions });
    expect(JSON.parse(all.for('nn')).announcement.title).toBe('title-nn');
    expect(JSON.parse(all.for(null)).announcement.title).toBe('title-nb');
    expect(all.serialisations).toBe(2);
  });
});
