import { describe, expect, it } from 'vitest';
import { isNotModified, parseHttpDate } from '../../src/feeds/conditional.js';
import { type FeedModel, feedEtag, lastModified } from '../../src/feeds/index.js';

const ETAG = 'W/"abc123"';
const MODIFIED = 'Sat, 01 Mar 2025 10:00:00 GMT';
const BEFORE = 'Sat, 01 Mar 2025 09:59:59 GMT';
const AFTER = 'Sat, 01 Mar 2025 10:00:01 GMT';

describe('isNotModified: If-None-Match', () => {
  it.each([
    ['the same weak tag', 'W/"abc123"', true],
    ['the strong form of the tag (weak comparison)', '"abc123"', true],
    ['another tag', '"abc124"', false],
    ['a list containing the tag', '"x", W/"abc123" , "y"', true],
    ['a list without spaces', '"x",W/"abc123"', true],
    ['a list without the tag', '"x", "y"', false],
    ['a list with empty elements', ', ,"abc123",', true],
    ['*', '*', true],
    ['* with spaces', ' * ', true],
    ['an unquoted tag (malformed)', 'abc123', false],
    ['a lower-case weak prefix (malformed: W/ is case-sensitive)', 'w/"abc123"', false],
    ['an unterminated tag (malformed)', '"abc123', false],
    ['garbage after a tag (malformed)', '"abc123" junk', false],
    ['* inside a list (malformed)', '"x", *', false],
    ['an empty value (malformed)', '', false],
  ])('%s → %s', (_name, header, expected) => {
    expect(isNotModified({ 'if-none-match': header }, ETAG, MODIFIED)).toBe(expected);
  });

  it('matches a tag that contains a comma (entity tags are read, not split on commas)', () => {
    expect(isNotModified({ 'if-none-match': '"a,b"' }, '"a,b"', null)).toBe(true);
    expect(isNotModified({ 'if-none-match': '"a,b"' }, '"a"', null)).toBe(false);
  });

  it('compares a strong current tag weakly too', () => {
    expect(isNotModified({ 'if-none-match': 'W/"abc123"' }, '"abc123"', null)).toBe(true);
  });

  it('takes precedence over If-Modified-Since, whether or not it matches', () => {
    // Tag does not match, date would: the date is ignored.
    expect(isNotModified({ 'if-none-match': '"other"', 'if-modified-since': AFTER }, ETAG, MODIFIED)).toBe(false);
    // Tag matches, date would not: the tag decides.
    expect(isNotModified({ 'if-none-match': ETAG, 'if-modified-since': BEFORE }, ETAG, MODIFIED)).toBe(true);
    // Malformed tag: still present, so the date is still ignored.
    expect(isNotModified({ 'if-none-match': 'garbage', 'if-modified-since': AFTER }, ETAG, MODIFIED)).toBe(false);
  });

  it('accepts repeated header lines (an array) and any header-name case', () => {
    expect(isNotModified({ 'if-none-match': ['"x"', 'W/"abc123"'] }, ETAG, MODIFIED)).toBe(true);
    expect(isNotModified({ 'If-None-Match': '"abc123"' }, ETAG, MODIFIED)).toBe(true);
    expect(isNotModified({ 'if-none-match': undefined, 'if-modified-since': MODIFIED }, ETAG, MODIFIED)).toBe(true);
  });

  it('refuses a malformed current ETag (a programming error)', () => {
    expect(() => isNotModified({ 'if-none-match': '"a"' }, 'abc', MODIFIED)).toThrow(/malformed/);
  });
});

describe('isNotModified: If-Modified-Since', () => {
  it.each([
    ['the same date', MODIFIED, true],
    ['a later date', AFTER, true],
    ['an earlier date', BEFORE, false],
    ['the RFC 850 form', 'Saturday, 01-Mar-25 10:00:00 GMT', true],
    ['the RFC 850 form, earlier', 'Saturday, 01-Mar-25 09:00:00 GMT', false],
    ['the asctime form', 'Sat Mar  1 10:00:00 2025', true],
    ['the asctime form, earlier', 'Sat Mar  1 09:59:59 2025', false],
    ['an ISO 8601 date (not an HTTP-date)', '2025-03-01T10:00:00Z', false],
    ['a date in another zone (not an HTTP-date)', 'Sat, 01 Mar 2025 11:00:00 +0100', false],
    ['an impossible date', 'Sat, 31 Feb 2025 10:00:00 GMT', false],
    ['an impossible time', 'Sat, 01 Mar 2025 24:00:00 GMT', false],
    ['garbage', 'yesterday', false],
  ])('%s → %s', (_name, header, expected) => {
    expect(isNotModified({ 'if-modified-since': header }, ETAG, MODIFIED)).toBe(expected);
  });

  it('compares whole seconds, so a sub-second Last-Modified still matches its own header value', () => {
    const precise = new Date('2025-03-01T10:00:00.750Z');
    expect(isNotModified({ 'if-modified-since': MODIFIED }, ETAG, precise)).toBe(true);
    expect(isNotModified({ 'if-modified-since': BEFORE }, ETAG, precise)).toBe(false);
  });

  it('is ignored when sent more than once, or when there is no Last-Modified', () => {
    expect(isNotModified({ 'if-modified-since': [AFTER, AFTER] }, ETAG, MODIFIED)).toBe(false);
    expect(isNotModified({ 'if-modified-since': AFTER }, ETAG, null)).toBe(false);
  });

  it('no conditional headers → the full response', () => {
    expect(isNotModified({}, ETAG, MODIFIED)).toBe(false);
    expect(isNotModified({ accept: 'application/atom+xml' }, ETAG, MODIFIED)).toBe(false);
  });
});

describe('parseHttpDate', () => {
  it('reads all three forms as UTC, whatever the process time zone', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  it('round-trips what lastModified produces', () => {
    const header = new Date('2031-12-24T18:30:05Z').toUTCString();
    expect(parseHttpDate(header)).toBe(Date.UTC(2031, 11, 24, 18, 30, 5));
  });
});

describe('with the feed validators', () => {
  const feed: FeedModel = {
    id: 'tag:meldinger.bott.no,2025:channel/bott-sa',
    selfUrl: 'https://meldinger.bott.no/feeds/channels/bott-sa.atom',
    alternateUrl: 'https://meldinger.bott.no/channels/bott-sa',
    title: 'BOTT SA',
    description: '',
    language: 'nb',
    updated: new Date('2025-03-01T10:00:00.400Z'),
    author: { name: 'BOTT SA' },
    entries: [],
    retracted: [],
  };

  it('a client that sends back what it got is answered 304, until the feed changes', () => {
    const headers = { 'if-none-match': feedEtag(feed), 'if-modified-since': lastModified(feed) };
    expect(isNotModified(headers, feedEtag(feed), lastModified(feed))).toBe(true);
    expect(isNotModified({ 'if-modified-since': lastModified(feed) }, feedEtag(feed), lastModified(feed))).toBe(true);

    const changed: FeedModel = { ...feed, updated: new Date('2025-03-01T10:05:00Z') };
    expect(isNotModified(headers, feedEtag(changed), lastModified(changed))).toBe(false);
    expect(isNotModified({ 'if-modified-since': lastModified(feed) }, feedEtag(changed), lastModified(changed))).toBe(
      false,
    );
  });
});
