import { DOMParser, type Element, onWarningStopParsing } from '@xmldom/xmldom';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import Parser from 'rss-parser';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import type { Language } from '../../src/domain/types.js';
import {
  announcementCategories,
  type FeedEntry,
  type FeedModel,
  feedEtag,
  type JsonFeedDocument,
  lastModified,
  renderAtom,
  renderJsonFeed,
  renderRss,
} from '../../src/feeds/index.js';

const ATOM = 'http://www.w3.org/2005/Atom';
const TOMBSTONES = 'http://purl.org/atompub/tombstones/1.0';
const DUBLIN_CORE = 'http://purl.org/dc/elements/1.1/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const BASE = 'https://meldinger.bott.no';

// ---------------------------------------------------------------------------------------------------------------------
// Fixtures

function entry(overrides: Partial<FeedEntry> = {}): FeedEntry {
  return {
    id: 'urn:uuid:0e9f8a2c-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
    title: 'Planlagt nedetid i FS',
    summary: 'FS er utilgjengelig lørdag morgen.',
    contentHtml: '<p>FS er <strong>utilgjengelig</strong> lørdag 06–08.</p>',
    url: `${BASE}/announcements/0e9f8a2c`,
    published: new Date('2025-03-01T09:00:00Z'),
    updated: new Date('2025-03-01T09:30:00Z'),
    authorName: 'Kari Nordmann',
    categories: announcementCategories({
      importance: 'important',
      type: 'maintenance',
      language: 'nb',
      schemeBase: `${BASE}/feeds/categories/`,
    }),
    enclosures: [
      { url: `${BASE}/attachments/a1/plan.pdf`, type: 'application/pdf', length: 48213, title: 'plan.pdf' },
      { url: `${BASE}/attachments/a2/skjema.png`, type: 'image/png', length: 1024, title: null },
    ],
    ...overrides,
  };
}

function model(overrides: Partial<FeedModel> = {}): FeedModel {
  return {
    id: 'tag:meldinger.bott.no,2025:channel/bott-sa',
    selfUrl: `${BASE}/feeds/channels/bott-sa.atom`,
    alternateUrl: `${BASE}/channels/bott-sa`,
    title: 'BOTT SA',
    description: 'Meldinger fra BOTT SA',
    language: 'nb',
    updated: new Date('2025-03-01T10:00:00Z'),
    author: { name: 'BOTT SA', url: `${BASE}/channels/bott-sa` },
    entries: [
      entry(),
      entry({
        id: 'urn:uuid:7d1a6c55-0b7e-4d8e-9a51-2f3c4d5e6f70',
        title: 'Ny versjon av Inspera',
        summary: null,
        authorName: null,
        url: `${BASE}/announcements/7d1a6c55`,
        published: new Date('2025-02-20T08:00:00Z'),
        updated: new Date('2025-02-20T08:00:00Z'),
        enclosures: [],
      }),
    ],
    retracted: [
      {
        id: 'urn:uuid:99999999-0000-4000-8000-000000000001',
        when: new Date('2025-02-28T12:00:00Z'),
        comment: 'Sendt ved en feil',
      },
    ],
    paging: null,
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Real parsers

/**
 * Parses with two independent XML parsers, both refusing anything malformed: saxes (strict XML 1.0 + namespaces,
 * including character legality that xmldom does not check) and xmldom (for namespace-aware DOM queries).
 */
function parseXml(xml: string) {
  const sax = new SaxesParser({ xmlns: true });
  sax.on('error', (error) => {
    throw error;
  });
  sax.write(xml).close();
  // XML 1.0 line-end handling: xmldom's default follows XML 1.1, which would also turn U+0085 and U+2028 into LF.
  return new DOMParser({
    onError: onWarningStopParsing,
    normalizeLineEndings: (source) => source.replace(/\r\n?/g, '\n'),
  }).parseFromString(xml, 'application/xml');
}

function children(parent: Element, namespace: string, localName: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (node): node is Element =>
      node.nodeType === 1 &&
      ((node as Element).namespaceURI ?? '') === namespace &&
      (node as Element).localName === localName,
  );
}

function child(parent: Element, namespace: string, localName: string): Element {
  const [found, ...rest] = children(parent, namespace, localName);
  if (!found) throw new Error(`<${localName}> missing in <${parent.localName}>`);
  if (rest.length > 0) throw new Error(`<${localName}> repeated in <${parent.localName}>`);
  return found;
}

const text = (parent: Element, namespace: string, localName: string) => child(parent, namespace, localName).textContent;

const feedParser = new Parser();

// ---------------------------------------------------------------------------------------------------------------------
// JSON Feed 1.1 schema, written from https://www.jsonfeed.org/version/1.1/

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
// strictRequired off: the anyOf branches name properties declared one level up, which is the point of them.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
ajv.addFormat('absolute-url', (value: string) => URL.canParse(value));
ajv.addFormat('rfc3339', rfc3339);
const author = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    url: { type: 'string', format: 'absolute-url' },
    avatar: { type: 'string', format: 'absolute-url' },
  },
  minProperties: 1,
  additionalProperties: false,
  patternProperties: { '^_': {} },
};
const jsonFeedSchema = {
  type: 'object',
  required: ['version', 'title', 'items'],
  properties: {
    version: { const: 'https://jsonfeed.org/version/1.1' },
    title: { type: 'string' },
    home_page_url: { type: 'string', format: 'absolute-url' },
    feed_url: { type: 'string', format: 'absolute-url' },
    description: { type: 'string' },
    user_comment: { type: 'string' },
    next_url: { type: 'string', format: 'absolute-url' },
    icon: { type: 'string', format: 'absolute-url' },
    favicon: { type: 'string', format: 'absolute-url' },
    authors: { type: 'array', items: author },
    language: { type: 'string', pattern: '^[a-z]{2,3}(?:-[A-Za-z0-9]+)*$' },
    expired: { type: 'boolean' },
    hubs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'url'],
        properties: { type: { type: 'string' }, url: { type: 'string' } },
      },
    },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id'],
        // "content_html and content_text are each optional strings — but one must be present."
        anyOf: [{ required: ['content_html'] }, { required: ['content_text'] }],
        properties: {
          id: { type: 'string', minLength: 1 },
          url: { type: 'string', format: 'absolute-url' },
          external_url: { type: 'string', format: 'absolute-url' },
          title: { type: 'string' },
          content_html: { type: 'string' },
          content_text: { type: 'string' },
          summary: { type: 'string' },
          image: { type: 'string', format: 'absolute-url' },
          banner_image: { type: 'string', format: 'absolute-url' },
          date_published: { type: 'string', format: 'rfc3339' },
          date_modified: { type: 'string', format: 'rfc3339' },
          authors: { type: 'array', items: author },
          tags: { type: 'array', items: { type: 'string' } },
          language: { type: 'string', pattern: '^[a-z]{2,3}(?:-[A-Za-z0-9]+)*$' },
          attachments: {
            type: 'array',
            items: {
              type: 'object',
              required: ['url', 'mime_type'],
              properties: {
                url: { type: 'string', format: 'absolute-url' },
                mime_type: { type: 'string', pattern: '^[^/\\s]+/[^/\\s]+$' },
                title: { type: 'string' },
                size_in_bytes: { type: 'number', minimum: 0 },
                duration_in_seconds: { type: 'number', minimum: 0 },
              },
              additionalProperties: false,
              patternProperties: { '^_': {} },
            },
          },
        },
        additionalProperties: false,
        patternProperties: { '^_': {} },
      },
    },
  },
  additionalProperties: false,
  patternProperties: { '^_': {} },
};
const validateJsonFeed = ajv.compile(jsonFeedSchema);

function parseJsonFeed(json: string): JsonFeedDocument {
  const document: unknown = JSON.parse(json);
  if (!validateJsonFeed(document)) throw new Error(`JSON Feed invalid: ${ajv.errorsText(validateJsonFeed.errors)}`);
  return document as unknown as JsonFeedDocument;
}

// ---------------------------------------------------------------------------------------------------------------------

describe('RSS 2.0', () => {
  it('is well-formed and has the required channel and item elements', async () => {
    const m = model({ selfUrl: `${BASE}/feeds/channels/bott-sa.rss` });
    const xml = renderRss(m);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const rss = parseXml(xml).documentElement!;
    expect(rss.localName).toBe('rss');
    expect(rss.getAttribute('version')).toBe('2.0');
    const channel = child(rss, '', 'channel');
    expect(text(channel, '', 'title')).toBe('BOTT SA');
    expect(text(channel, '', 'link')).toBe(`${BASE}/channels/bott-sa`);
    expect(text(channel, '', 'description')).toBe('Meldinger fra BOTT SA');
    expect(text(channel, '', 'language')).toBe('nb');
    expect(text(channel, '', 'lastBuildDate')).toBe('Sat, 01 Mar 2025 10:00:00 GMT');
    const [self] = children(channel, ATOM, 'link');
    expect(self?.getAttribute('rel')).toBe('self');
    expect(self?.getAttribute('href')).toBe(`${BASE}/feeds/channels/bott-sa.rss`);
    expect(self?.getAttribute('type')).toBe('application/rss+xml');

    const items = children(channel, '', 'item');
    expect(items).toHaveLength(2);
    const first = items[0]!;
    const guid = child(first, '', 'guid');
    expect(guid.textContent).toBe('urn:uuid:0e9f8a2c-1d2b-4c3d-8e9f-0a1b2c3d4e5f');
    expect(guid.getAttribute('isPermaLink')).toBe('false');
    expect(text(first, '', 'pubDate')).toBe('Sat, 01 Mar 2025 09:00:00 GMT');
    expect(text(first, '', 'description')).toBe(m.entries[0]!.contentHtml);
    expect(text(first, DUBLIN_CORE, 'creator')).toBe('Kari Nordmann');
    expect(children(items[1]!, DUBLIN_CORE, 'creator')).toHaveLength(0);
    expect(children(first, '', 'category').map((c) => [c.getAttribute('domain'), c.textContent])).toEqual([
      [`${BASE}/feeds/categories/importance`, 'important'],
      [`${BASE}/feeds/categories/type`, 'maintenance'],
    ]);
  });

  it('parses with a real feed parser', async () => {
    const feed = await feedParser.parseString(renderRss(model({ selfUrl: `${BASE}/feeds/channels/bott-sa.rss` })));
    expect(feed.title).toBe('BOTT SA');
    expect(feed.link).toBe(`${BASE}/channels/bott-sa`);
    expect(feed.feedUrl).toBe(`${BASE}/feeds/channels/bott-sa.rss`);
    expect(feed.items.map((item) => item.guid)).toEqual([
      'urn:uuid:0e9f8a2c-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
      'urn:uuid:7d1a6c55-0b7e-4d8e-9a51-2f3c4d5e6f70',
    ]);
    expect(feed.items[0]!.isoDate).toBe('2025-03-01T09:00:00.000Z');
    expect(feed.items[0]!.enclosure).toEqual({
      url: `${BASE}/attachments/a1/plan.pdf`,
      length: '48213',
      type: 'application/pdf',
    });
  });

  it('carries one enclosure per item (the first attachment), as RSS readers support', () => {
    const channel = child(parseXml(renderRss(model())).documentElement!, '', 'channel');
    const [first, second] = children(channel, '', 'item');
    expect(children(first!, '', 'enclosure')).toHaveLength(1);
    expect(children(second!, '', 'enclosure')).toHaveLength(0);
  });

  it('leaves retracted entries out (RSS has no tombstones)', () => {
    const xml = renderRss(model());
    expect(xml).not.toContain('urn:uuid:99999999-0000-4000-8000-000000000001');
  });

  it('falls back to the title when the channel has no description (description is required)', () => {
    const channel = child(parseXml(renderRss(model({ description: '  ' }))).documentElement!, '', 'channel');
    expect(text(channel, '', 'description')).toBe('BOTT SA');
  });
});

describe('Atom (RFC 4287)', () => {
  it('is well-formed and has the required feed and entry elements', () => {
    const m = model();
    const feed = parseXml(renderAtom(m)).documentElement!;
    expect(feed.namespaceURI).toBe(ATOM);
    expect(feed.localName).toBe('feed');
    expect(feed.getAttributeNS(XML_NS, 'lang')).toBe('nb');
    expect(text(feed, ATOM, 'id')).toBe('tag:meldinger.bott.no,2025:channel/bott-sa');
    expect(child(feed, ATOM, 'title').getAttribute('type')).toBe('text');
    expect(text(feed, ATOM, 'title')).toBe('BOTT SA');
    expect(text(feed, ATOM, 'subtitle')).toBe('Meldinger fra BOTT SA');
    expect(text(feed, ATOM, 'updated')).toBe('2025-03-01T10:00:00Z');
    // A feed-level author makes entries without one valid (RFC 4287 §4.1.1).
    expect(text(child(feed, ATOM, 'author'), ATOM, 'name')).toBe('BOTT SA');
    const links = children(feed, ATOM, 'link').map((link) => [link.getAttribute('rel'), link.getAttribute('href')]);
    expect(links).toEqual([
      ['self', `${BASE}/feeds/channels/bott-sa.atom`],
      ['alternate', `${BASE}/channels/bott-sa`],
    ]);

    const entries = children(feed, ATOM, 'entry');
    expect(entries).toHaveLength(2);
    for (const element of entries) {
      expect(text(element, ATOM, 'id')).toMatch(/^urn:uuid:/);
      expect(child(element, ATOM, 'title').getAttribute('type')).toBe('text');
      expect(text(element, ATOM, 'updated')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(text(element, ATOM, 'published')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      const content = child(element, ATOM, 'content');
      expect(content.getAttribute('type')).toBe('html');
    }
    const [first, second] = entries as [Element, Element];
    expect(text(first, ATOM, 'content')).toBe(m.entries[0]!.contentHtml);
    expect(text(first, ATOM, 'summary')).toBe('FS er utilgjengelig lørdag morgen.');
    expect(child(first, ATOM, 'summary').getAttribute('type')).toBe('text');
    expect(children(second, ATOM, 'summary')).toHaveLength(0);
    expect(text(child(first, ATOM, 'author'), ATOM, 'name')).toBe('Kari Nordmann');
    expect(children(second, ATOM, 'author')).toHaveLength(0);
    const alternate = children(first, ATOM, 'link').find((link) => link.getAttribute('rel') === 'alternate');
    expect(alternate?.getAttribute('href')).toBe(`${BASE}/announcements/0e9f8a2c`);
    expect(
      children(first, ATOM, 'category').map((c) => [
        c.getAttribute('scheme'),
        c.getAttribute('term'),
        c.getAttribute('label'),
      ]),
    ).toEqual([
      [`${BASE}/feeds/categories/importance`, 'important', 'Viktig'],
      [`${BASE}/feeds/categories/type`, 'maintenance', 'Planlagt nedetid'],
    ]);
  });

  it('lists every attachment as an enclosure link with type and length', () => {
    const feed = parseXml(renderAtom(model())).documentElement!;
    const first = children(feed, ATOM, 'entry')[0]!;
    const enclosures = children(first, ATOM, 'link')
      .filter((link) => link.getAttribute('rel') === 'enclosure')
      .map((link) => ({
        href: link.getAttribute('href'),
        type: link.getAttribute('type'),
        length: link.getAttribute('length'),
        title: link.getAttribute('title'),
      }));
    expect(enclosures).toEqual([
      { href: `${BASE}/attachments/a1/plan.pdf`, type: 'application/pdf', length: '48213', title: 'plan.pdf' },
      { href: `${BASE}/attachments/a2/skjema.png`, type: 'image/png', length: '1024', title: null },
    ]);
  });

  it('parses with a real feed parser', async () => {
    const feed = await feedParser.parseString(renderAtom(model()));
    expect(feed.title).toBe('BOTT SA');
    expect(feed.link).toBe(`${BASE}/channels/bott-sa`);
    expect(feed.feedUrl).toBe(`${BASE}/feeds/channels/bott-sa.atom`);
    expect(feed.items.map((item) => item.id)).toEqual([
      'urn:uuid:0e9f8a2c-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
      'urn:uuid:7d1a6c55-0b7e-4d8e-9a51-2f3c4d5e6f70',
    ]);
    expect(feed.items[0]!.link).toBe(`${BASE}/announcements/0e9f8a2c`);
    expect(feed.items[0]!.content).toBe(model().entries[0]!.contentHtml);
    expect(feed.items[0]!.author).toBe('Kari Nordmann');
    expect(feed.items[0]!.isoDate).toBe('2025-03-01T09:00:00.000Z');
  });

  it('publishes retracted entries as RFC 6721 tombstones, with and without a comment', () => {
    const feed = parseXml(
      renderAtom(
        model({
          retracted: [
            {
              id: 'urn:uuid:99999999-0000-4000-8000-000000000001',
              when: new Date('2025-02-28T12:00:00Z'),
              comment: 'Feil',
            },
            { id: 'tag:meldinger.bott.no,2025:announcement/42', when: new Date('2025-02-27T07:30:00.250Z') },
          ],
        }),
      ),
    ).documentElement!;
    const tombstones = children(feed, TOMBSTONES, 'deleted-entry');
    expect(tombstones.map((t) => [t.prefix, t.getAttribute('ref'), t.getAttribute('when')])).toEqual([
      ['at', 'urn:uuid:99999999-0000-4000-8000-000000000001', '2025-02-28T12:00:00Z'],
      ['at', 'tag:meldinger.bott.no,2025:announcement/42', '2025-02-27T07:30:00Z'],
    ]);
    const comment = child(tombstones[0]!, TOMBSTONES, 'comment');
    expect(comment.textContent).toBe('Feil');
    expect(comment.getAttribute('type')).toBe('text');
    expect(children(tombstones[1]!, TOMBSTONES, 'comment')).toHaveLength(0);
    // A tombstone is never also an entry.
    const entryIds = children(feed, ATOM, 'entry').map((e) => text(e, ATOM, 'id'));
    expect(entryIds).not.toContain('urn:uuid:99999999-0000-4000-8000-000000000001');
  });

  it('writes RFC 5005 paged-feed links and no complete/archive markers', () => {
    const paging = {
      first: `${BASE}/feeds/channels/bott-sa.atom`,
      previous: `${BASE}/feeds/channels/bott-sa.atom?before=abc`,
      next: `${BASE}/feeds/channels/bott-sa.atom?after=def&limit=20`,
      last: `${BASE}/feeds/channels/bott-sa.atom?last=1`,
    };
    const xml = renderAtom(model({ paging }));
    const feed = parseXml(xml).documentElement!;
    const links = Object.fromEntries(
      children(feed, ATOM, 'link').map((link) => [link.getAttribute('rel'), link.getAttribute('href')]),
    );
    expect(links).toMatchObject(paging);
    expect(xml).not.toContain('purl.org/syndication/history');

    // Only the links that exist are written.
    const onlyNext = parseXml(renderAtom(model({ paging: { next: paging.next } }))).documentElement!;
    expect(children(onlyNext, ATOM, 'link').map((link) => link.getAttribute('rel'))).toEqual([
      'self',
      'alternate',
      'next',
    ]);
  });

  it('marks an entry in another language than the feed (a fallback version) with its own xml:lang', () => {
    const feed = parseXml(
      renderAtom(
        model({ language: 'en', entries: [entry({ language: 'nb' }), entry({ id: 'urn:x:2', language: 'en' })] }),
      ),
    ).documentElement!;
    const [fallback, native] = children(feed, ATOM, 'entry') as [Element, Element];
    expect(fallback.getAttributeNS(XML_NS, 'lang')).toBe('nb');
    expect(native.hasAttributeNS(XML_NS, 'lang')).toBe(false);
  });
});

describe('JSON Feed 1.1', () => {
  it('validates against the schema and carries the required fields', () => {
    const m = model({ selfUrl: `${BASE}/feeds/channels/bott-sa.json` });
    const feed = parseJsonFeed(renderJsonFeed(m));
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.title).toBe('BOTT SA');
    expect(feed.home_page_url).toBe(`${BASE}/channels/bott-sa`);
    expect(feed.feed_url).toBe(`${BASE}/feeds/channels/bott-sa.json`);
    expect(feed.language).toBe('nb');
    expect(feed.authors).toEqual([{ name: 'BOTT SA', url: `${BASE}/channels/bott-sa` }]);
    expect(feed.next_url).toBeUndefined();
    expect(feed.items).toHaveLength(2);
    expect(feed.items[0]).toEqual({
      id: 'urn:uuid:0e9f8a2c-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
      url: `${BASE}/announcements/0e9f8a2c`,
      title: 'Planlagt nedetid i FS',
      content_html: m.entries[0]!.contentHtml,
      summary: 'FS er utilgjengelig lørdag morgen.',
      date_published: '2025-03-01T09:00:00Z',
      date_modified: '2025-03-01T09:30:00Z',
      authors: [{ name: 'Kari Nordmann' }],
      tags: ['important', 'maintenance'],
      attachments: [
        {
          url: `${BASE}/attachments/a1/plan.pdf`,
          mime_type: 'application/pdf',
          size_in_bytes: 48213,
          title: 'plan.pdf',
        },
        { url: `${BASE}/attachments/a2/skjema.png`, mime_type: 'image/png', size_in_bytes: 1024 },
      ],
    });
    // No author of its own: the item inherits the feed's; no summary: the field is absent.
    expect(feed.items[1]!.authors).toBeUndefined();
    expect(feed.items[1]!.summary).toBeUndefined();
    expect(feed.items[1]!.attachments).toBeUndefined();
  });

  it('expresses paging as next_url and leaves retracted entries out', () => {
    const next = `${BASE}/feeds/channels/bott-sa.json?after=def`;
    const json = renderJsonFeed(model({ paging: { first: `${BASE}/x.json`, next } }));
    const feed = parseJsonFeed(json);
    expect(feed.next_url).toBe(next);
    expect(json).not.toContain('99999999');
  });

  it('the schema rejects what JSON Feed forbids (so the validation above can fail)', () => {
    const valid = JSON.parse(renderJsonFeed(model()));
    for (const broken of [
      { ...valid, version: 'https://jsonfeed.org/version/1' },
      { ...valid, items: [{ ...valid.items[0], id: undefined }] },
      { ...valid, items: [{ ...valid.items[0], content_html: undefined }] },
      { ...valid, items: [{ ...valid.items[0], date_published: 'Sat, 01 Mar 2025 09:00:00 GMT' }] },
      { ...valid, home_page_url: '/channels/bott-sa' },
      { ...valid, title: undefined },
    ]) {
      expect(validateJsonFeed(JSON.parse(JSON.stringify(broken)))).toBe(false);
    }
  });
});

describe('languages', () => {
  it.each<Language>(['nb', 'nn', 'en'])('%s is declared in every format', async (language) => {
    const m = model({ language });
    const atom = parseXml(renderAtom(m)).documentElement!;
    expect(atom.getAttributeNS(XML_NS, 'lang')).toBe(language);
    const alternate = children(atom, ATOM, 'link').find((link) => link.getAttribute('rel') === 'alternate');
    expect(alternate?.getAttribute('hreflang')).toBe(language);
    const rss = await feedParser.parseString(renderRss(m));
    expect(rss.language).toBe(language);
    expect(parseJsonFeed(renderJsonFeed(m)).language).toBe(language);
  });

  it('category labels follow the language, terms do not', () => {
    const labels = (language: Language) =>
      announcementCategories({ importance: 'critical', type: 'maintenance', language, schemeBase: `${BASE}/c/` });
    expect(labels('nb').map((c) => c.label)).toEqual(['Kritisk', 'Planlagt nedetid']);
    expect(labels('nn').map((c) => c.label)).toEqual(['Kritisk', 'Planlagd nedetid']);
    expect(labels('en').map((c) => [c.term, c.label])).toEqual([
      ['critical', 'Critical'],
      ['maintenance', 'Planned downtime'],
    ]);
  });
});

describe('escaping', () => {
  const hostile =
    'Hei </title><script>alert("x")</script> & ]]> <![CDATA[ \u0000\u0001\u0008\u000B\u000C\u001F\uFFFE\uFFFF\uD800 slutt';
  // What survives: everything XML 1.0 can carry.
  const survivable = 'Hei </title><script>alert("x")</script> & ]]> <![CDATA[  slutt';
  const hostileHtml = '<p>a ]]> b</p>\u0001<p>c ]]]]> d</p>';
  const hostileModel = () =>
    model({
      title: hostile,
      description: hostile,
      author: { name: hostile },
      entries: [
        entry({
          title: hostile,
          summary: hostile,
          contentHtml: hostileHtml,
          authorName: hostile,
          categories: [{ scheme: `${BASE}/c/type`, term: 'x"y', label: hostile }],
          enclosures: [{ url: `${BASE}/f?a=1&b="2"`, type: 'application/pdf', length: 1, title: hostile }],
        }),
      ],
      retracted: [{ id: 'urn:x:gone', when: new Date('2025-01-01T00:00:00Z'), comment: hostile }],
    });

  it('hostile text stays text in Atom: no element injected, illegal characters removed, the rest round-trips', async () => {
    const xml = renderAtom(hostileModel());
    const feed = parseXml(xml).documentElement!;
    expect(feed.getElementsByTagName('script')).toHaveLength(0);
    expect(text(feed, ATOM, 'title')).toBe(survivable);
    expect(text(feed, ATOM, 'subtitle')).toBe(survivable);
    expect(text(child(feed, ATOM, 'author'), ATOM, 'name')).toBe(survivable);
    const first = child(feed, ATOM, 'entry');
    expect(text(first, ATOM, 'title')).toBe(survivable);
    expect(text(first, ATOM, 'summary')).toBe(survivable);
    expect(text(first, ATOM, 'content')).toBe('<p>a ]]> b</p><p>c ]]]]> d</p>');
    expect(child(first, ATOM, 'category').getAttribute('label')).toBe(survivable);
    expect(child(first, ATOM, 'category').getAttribute('term')).toBe('x"y');
    const enclosure = children(first, ATOM, 'link').find((link) => link.getAttribute('rel') === 'enclosure')!;
    expect(enclosure.getAttribute('href')).toBe(`${BASE}/f?a=1&b="2"`);
    expect(enclosure.getAttribute('title')).toBe(survivable);
    expect(text(child(feed, TOMBSTONES, 'deleted-entry'), TOMBSTONES, 'comment')).toBe(survivable);
    const parsed = await feedParser.parseString(xml);
    expect(parsed.title).toBe(survivable);
  });

  it('hostile text stays text in RSS', async () => {
    const xml = renderRss(hostileModel());
    const rss = parseXml(xml).documentElement!;
    expect(rss.getElementsByTagName('script')).toHaveLength(0);
    const channel = child(rss, '', 'channel');
    expect(text(channel, '', 'title')).toBe(survivable);
    const item = child(channel, '', 'item');
    expect(text(item, '', 'title')).toBe(survivable);
    expect(text(item, '', 'description')).toBe('<p>a ]]> b</p><p>c ]]]]> d</p>');
    expect(text(item, DUBLIN_CORE, 'creator')).toBe(survivable);
    const parsed = await feedParser.parseString(xml);
    expect(parsed.items[0]!.title).toBe(survivable);
  });

  it('hostile text stays valid JSON with the same characters removed', () => {
    const feed = parseJsonFeed(renderJsonFeed(hostileModel()));
    expect(feed.title).toBe(survivable);
    expect(feed.items[0]!.title).toBe(survivable);
    expect(feed.items[0]!.content_html).toBe('<p>a ]]> b</p><p>c ]]]]> d</p>');
  });

  it('keeps non-ASCII text, emoji (surrogate pairs) and line breaks intact', async () => {
    const title = 'Æ ø å — «sitat» 😀 𝄞';
    const summary = 'linje 1\nlinje 2\r\nlinje 3';
    const m = model({ title, entries: [entry({ title, summary })] });
    const feed = parseXml(renderAtom(m)).documentElement!;
    expect(text(feed, ATOM, 'title')).toBe(title);
    expect(text(child(feed, ATOM, 'entry'), ATOM, 'summary')).toBe(summary);
    expect(parseJsonFeed(renderJsonFeed(m)).items[0]!.title).toBe(title);
    expect((await feedParser.parseString(renderRss(m))).title).toBe(title);
  });

  it('any text at all yields well-formed documents whose text round-trips (property)', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 forbids, as the renderers strip them
    const illegal = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Cs}/gu;
    // Any code point, plus the usual suspects: lone surrogates, markup, CDATA ends, line breaks.
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0x10ffff }).map((codePoint) => String.fromCodePoint(codePoint)),
      fc.constantFrom('\uD800', '\uDFFF', '<', '>', '&', '"', ']]>', '<![CDATA[', '\r\n', '\r', '\u0085', '\u2028'),
    );
    fc.assert(
      fc.property(fc.string({ unit, minLength: 1 }), fc.string({ unit }), (raw, html) => {
        const title = raw.trim() === '' || raw.replace(illegal, '').trim() === '' ? `x${raw}` : raw;
        const m = model({ title, entries: [entry({ title, summary: raw, contentHtml: html })], retracted: [] });
        const expected = title.replace(illegal, '');
        const atom = parseXml(renderAtom(m)).documentElement!;
        expect(text(atom, ATOM, 'title')).toBe(expected);
        const atomEntry = child(atom, ATOM, 'entry');
        expect(text(atomEntry, ATOM, 'content')).toBe(html.replace(illegal, '').replace(/\r\n?/g, '\n'));
        if (raw.trim() !== '') expect(text(atomEntry, ATOM, 'summary')).toBe(raw.replace(illegal, ''));
        const rss = parseXml(renderRss(m)).documentElement!;
        expect(text(child(rss, '', 'channel'), '', 'title')).toBe(expected);
        expect(parseJsonFeed(renderJsonFeed(m)).title).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('an empty feed', () => {
  it('is valid in every format', async () => {
    const m = model({ entries: [], retracted: [] });
    const atom = parseXml(renderAtom(m)).documentElement!;
    expect(children(atom, ATOM, 'entry')).toHaveLength(0);
    expect((await feedParser.parseString(renderRss(m))).items).toEqual([]);
    expect(parseJsonFeed(renderJsonFeed(m)).items).toEqual([]);
  });
});

describe('invalid models are refused with a clear error', () => {
  const renderers = { rss: renderRss, atom: renderAtom, jsonFeed: renderJsonFeed };
  const cases: Array<[string, () => FeedModel, RegExp]> = [
    ['relative self URL', () => model({ selfUrl: '/feeds/x.atom' }), /selfUrl must be an absolute URL/],
    ['relative alternate URL', () => model({ alternateUrl: 'channels/x' }), /alternateUrl must be an absolute URL/],
    [
      'relative entry URL',
      () => model({ entries: [entry({ url: '/announcements/1' })] }),
      /entries\[0\]\.url must be an absolute URL/,
    ],
    [
      'relative enclosure URL',
      () => model({ entries: [entry({ enclosures: [{ url: 'files/a.pdf', type: 'application/pdf', length: 1 }] })] }),
      /enclosures\[0\]\.url must be an absolute URL/,
    ],
    ['relative paging URL', () => model({ paging: { next: '?after=x' } }), /paging\.next must be an absolute URL/],
    ['javascript: URL', () => model({ entries: [entry({ url: 'javascript:alert(1)' })] }), /must be an http\(s\) URL/],
    ['URL with a space', () => model({ selfUrl: `${BASE}/a b` }), /whitespace/],
    ['feed id that is not an IRI', () => model({ id: 'bott-sa' }), /id must be an absolute IRI/],
    [
      'entry id that is not an IRI',
      () => model({ entries: [entry({ id: '42' })] }),
      /entries\[0\]\.id must be an absolute IRI/,
    ],
    ['duplicate entry ids', () => model({ entries: [entry(), entry()] }), /repeats an id/],
    [
      'an id both live and retracted',
      () => model({ retracted: [{ id: entry().id, when: new Date() }] }),
      /also a live entry/,
    ],
    ['invalid date', () => model({ updated: new Date('not a date') }), /updated must be a valid Date/],
    ['unknown language', () => model({ language: 'de' as Language }), /language must be one of nb, nn, en/],
    ['empty title', () => model({ title: ' ' }), /title must be non-empty/],
    [
      'negative enclosure length',
      () =>
        model({ entries: [entry({ enclosures: [{ url: `${BASE}/a.pdf`, type: 'application/pdf', length: -1 }] })] }),
      /length must be a byte count/,
    ],
    [
      'bad media type',
      () => model({ entries: [entry({ enclosures: [{ url: `${BASE}/a.pdf`, type: 'pdf', length: 1 }] })] }),
      /type must be a media type/,
    ],
  ];
  for (const [format, render] of Object.entries(renderers)) {
    it.each(cases)(`${format}: %s`, (_name, build, message) => {
      let thrown: unknown;
      try {
        render(build());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect((thrown as AppError).code).toBe('internal_error');
      expect((thrown as AppError).message).toMatch(message);
    });
  }
});

describe('validators', () => {
  it('the ETag is weak, stable for equal models and independent of key order and Date instances', () => {
    const a = model();
    const b: FeedModel = JSON.parse(JSON.stringify(model()), (key, value) =>
      ['updated', 'published', 'when'].includes(key) ? new Date(value) : value,
    );
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as FeedModel;
    expect(feedEtag(a)).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);
    expect(feedEtag(b)).toBe(feedEtag(a));
    expect(feedEtag(reordered)).toBe(feedEtag(a));
  });

  it('the ETag changes with anything that changes the document', () => {
    const base = feedEtag(model());
    const variants = [
      model({ title: 'BOTT SA!' }),
      model({ selfUrl: `${BASE}/feeds/channels/bott-sa.rss` }),
      model({ entries: [entry({ updated: new Date('2025-03-01T09:31:00Z') }), ...model().entries.slice(1)] }),
      model({ entries: [entry({ contentHtml: '<p>endret</p>' }), ...model().entries.slice(1)] }),
      model({ retracted: [] }),
      model({ paging: { next: `${BASE}/feeds/x?after=1` } }),
      model({ language: 'en' }),
    ];
    const tags = new Set([base, ...variants.map((v) => feedEtag(v))]);
    expect(tags.size).toBe(variants.length + 1);
    expect(feedEtag(model(), 'atom')).not.toBe(feedEtag(model(), 'rss'));
  });

  it('Last-Modified is the latest of the feed, its entries and its tombstones, as an IMF-fixdate', () => {
    expect(lastModified(model())).toBe('Sat, 01 Mar 2025 10:00:00 GMT');
    const laterEntry = model({ entries: [entry({ updated: new Date('2025-03-02T11:12:13.900Z') })] });
    expect(lastModified(laterEntry)).toBe('Sun, 02 Mar 2025 11:12:13 GMT');
    const laterTombstone = model({ retracted: [{ id: 'urn:x:gone', when: new Date('2025-03-05T00:00:00Z') }] });
    expect(lastModified(laterTombstone)).toBe('Wed, 05 Mar 2025 00:00:00 GMT');
  });
});
