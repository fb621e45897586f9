/**
 * Response schemas are compiled for fast-json-stringify with their "X or null" unions as type lists
 * (withNullableTypes, src/http/validation.ts): the same bytes as from the schema as written, for null and non-null
 * values alike.
 */
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { AnnouncementPage } from '../../src/http/schemas/announcements.js';
import { withNullableTypes } from '../../src/http/validation.js';

const item = (nulls: boolean) => ({
  id: '0195d2c4-7a3b-7000-8000-000000000001',
  channel: 'it-drift',
  language: 'nb',
  languages: ['nb', 'en'],
  title: 'Vedlikehald "i kveld"',
  summary: nulls ? null : 'Kort\nsamandrag',
  body: 'Tekst med **feitt** og \\ skråstrek',
  bodyHtml: '<p>Tekst med <strong>feitt</strong></p>\n',
  importance: 'important',
  type: 'maintenance',
  affectedSystem: nulls ? null : 'E-post',
  startsAt: nulls ? null : '2026-12-07T18:00:00.000Z',
  endsAt: nulls ? null : '2026-12-07T20:00:00.000Z',
  calendarUrl: nulls ? null : 'https://meldinger.example/api/v1/announcements/x/calendar.ics',
  resolves: nulls ? null : '0195d2c4-7a3b-7000-8000-000000000002',
  resolvedBy: nulls ? null : '0195d2c4-7a3b-7000-8000-000000000003',
  audience: nulls ? [] : ['UiO'],
  status: 'published',
  publishedAt: nulls ? null : '2026-12-07T12:00:00.000Z',
  publishAt: null,
  expiresAt: nulls ? null : '2027-01-07T12:00:00.000Z',
  expired: false,
  revision: 2,
  editedAt: nulls ? null : '2026-12-07T13:00:00.000Z',
  acknowledgement: { required: !nulls, deadline: nulls ? null : '2026-12-10T12:00:00.000Z' },
  attachments: nulls
    ? []
    : [
        {
          id: '0195d2c4-7a3b-7000-8000-000000000004',
          filename: 'plan.pdf',
          contentType: 'application/pdf',
          size: 9,
          url: 'https://meldinger.example/a',
        },
      ],
  url: 'https://meldinger.example/announcements/x',
  author: nulls ? null : { name: 'Kari' },
  rating: { average: nulls ? null : 4.5, votes: nulls ? 0 : 2 },
  views: 3,
  unknownField: 'left out by both',
});

const fastJson = (schema: object) =>
  SerializerSelector()({}, {})({ schema, method: 'GET', url: '/', httpStatus: '200' } as never) as (
    data: unknown,
  ) => string;

describe('response serialisation with nullable type lists', () => {
  it('writes the same JSON as the schema as written, nulls and values alike', () => {
    const asWritten = fastJson(AnnouncementPage as object);
    const rewritten = fastJson(withNullableTypes(AnnouncementPage) as object);
    for (const page of [
      { items: [item(true), item(false)], nextCursor: null },
      { items: [item(false)], nextCursor: 'abc' },
      { items: [], nextCursor: null },
    ]) {
      expect(rewritten(page)).toBe(asWritten(page));
      expect(JSON.parse(rewritten(page))).toEqual(JSON.parse(asWritten(page)));
    }
  });

  it('turns "X or null" into a type list and leaves other unions alone', () => {
    expect(withNullableTypes(Type.Union([Type.String({ format: 'date-time' }), Type.Null()]))).toMatchObject({
      type: ['string', 'null'],
      format: 'date-time',
    });
    expect(withNullableTypes(Type.Union([Type.String(), Type.Number()]))).toHaveProperty('anyOf');
    expect(withNullableTypes(Type.Union([Type.String(), Type.Number(), Type.Null()]))).toHaveProperty('anyOf');
  });
});
