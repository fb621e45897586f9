import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import {
  escapeText,
  foldLine,
  type MaintenanceEvent,
  renderMaintenanceIcs,
  utcDateTime,
} from '../../src/feeds/ical.js';

function event(overrides: Partial<MaintenanceEvent> = {}): MaintenanceEvent {
  return {
    uid: '0e9f8a2c-1d2b-4c3d-8e9f-0a1b2c3d4e5f@meldinger.bott.no',
    title: 'Planlagt nedetid i Felles studentsystem',
    description: 'FS er utilgjengelig mens databasen oppgraderes.',
    start: new Date('2025-03-08T06:00:00Z'),
    end: new Date('2025-03-08T08:30:00Z'),
    url: 'https://meldinger.bott.no/announcements/0e9f8a2c',
    system: 'Felles studentsystem (FS)',
    organiser: { name: 'BOTT SA', address: 'mailto:noreply@meldinger.bott.no' },
    sequence: 0,
    status: 'confirmed',
    language: 'nb',
    stamp: new Date('2025-03-01T10:00:00.900Z'),
    ...overrides,
  };
}

/** Parses with ical.js (which throws on malformed content lines) and returns the one VEVENT. */
function parse(ics: string) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  expect(calendar.name).toBe('vcalendar');
  const events = calendar.getAllSubcomponents('vevent');
  expect(events).toHaveLength(1);
  return { calendar, vevent: events[0]!, event: new ICAL.Event(events[0]!) };
}

function physicalLines(ics: string): string[] {
  expect(ics.endsWith('\r\n')).toBe(true);
  return ics.slice(0, -2).split('\r\n');
}

describe('renderMaintenanceIcs', () => {
  it('parses with ical.js into a PUBLISH calendar with one event carrying every property', () => {
    const input = event({ sequence: 3, lastModified: new Date('2025-03-01T09:00:00Z') });
    const { calendar, vevent, event: parsed } = parse(renderMaintenanceIcs(input));
    expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
    expect(calendar.getFirstPropertyValue('prodid')).toBe('-//BOTT//Meldingskanal//EN');
    expect(calendar.getFirstPropertyValue('calscale')).toBe('GREGORIAN');
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');

    expect(parsed.uid).toBe(input.uid);
    expect(parsed.summary).toBe(input.title);
    expect(parsed.description).toBe(
      'Berørt system: Felles studentsystem (FS)\n\nFS er utilgjengelig mens databasen oppgraderes.\n\nhttps://meldinger.bott.no/announcements/0e9f8a2c',
    );
    expect(parsed.sequence).toBe(3);
    expect(vevent.getFirstPropertyValue('url')).toBe(input.url);
    expect(vevent.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(vevent.getFirstPropertyValue('transp')).toBe('TRANSPARENT');
    expect(vevent.getFirstProperty('summary')!.getParameter('language')).toBe('nb');
    const organiser = vevent.getFirstProperty('organizer')!;
    expect(organiser.getFirstValue()).toBe('mailto:noreply@meldinger.bott.no');
    expect(organiser.getParameter('cn')).toBe('BOTT SA');
    expect(vevent.getFirstProperty('location')).toBeNull();
  });

  it('writes every time in UTC (Z form) at whole seconds', () => {
    const input = event({ lastModified: new Date('2025-03-01T09:00:00Z') });
    const ics = renderMaintenanceIcs(input);
    expect(ics).toContain('\r\nDTSTART:20250308T060000Z\r\n');
    expect(ics).toContain('\r\nDTEND:20250308T083000Z\r\n');
    expect(ics).toContain('\r\nDTSTAMP:20250301T100000Z\r\n');
    expect(ics).toContain('\r\nLAST-MODIFIED:20250301T090000Z\r\n');
    const { vevent, event: parsed } = parse(ics);
    for (const time of [parsed.startDate, parsed.endDate, vevent.getFirstPropertyValue('dtstamp') as ICAL.Time]) {
      expect(time.zone?.tzid).toBe('UTC');
    }
    expect(parsed.startDate.toJSDate().toISOString()).toBe('2025-03-08T06:00:00.000Z');
    expect(parsed.endDate.toJSDate().toISOString()).toBe('2025-03-08T08:30:00.000Z');
    expect(utcDateTime(new Date('1999-12-31T23:59:59.999Z'))).toBe('19991231T235959Z');
  });

  it('a retracted announcement is CANCELLED with a higher SEQUENCE', () => {
    const { vevent, event: parsed } = parse(renderMaintenanceIcs(event({ status: 'cancelled', sequence: 4 })));
    expect(vevent.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(parsed.sequence).toBe(4);
  });

  it('labels the affected system in the event language', () => {
    expect(parse(renderMaintenanceIcs(event({ language: 'nn' }))).event.description).toMatch(/^Råka system: /);
    const english = parse(renderMaintenanceIcs(event({ language: 'en' })));
    expect(english.event.description).toMatch(/^Affected system: /);
    expect(english.vevent.getFirstProperty('description')!.getParameter('language')).toBe('en');
  });

  it('uses CRLF only, ends with CRLF, and no physical line exceeds 75 octets', () => {
    const sentence = 'lang tekst med særnorske tegn; komma, semikolon og \\ skråstrek. ';
    const long = `Æøå ÆØÅ — 😀 ${sentence.repeat(12)}`;
    const ics = renderMaintenanceIcs(event({ title: long, description: `${long}\n${long}`, system: long }));
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = physicalLines(ics);
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    // Folded continuation lines start with one space; unfolding restores the content lines.
    expect(lines.some((line) => line.startsWith(' '))).toBe(true);
    const { event: parsed } = parse(ics);
    expect(parsed.summary).toBe(long);
  });

  it('never splits a multi-byte UTF-8 character across a fold (every physical line is valid UTF-8 on its own)', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    // Offsets 0..3 shift where the 75-octet boundary falls relative to 2-, 3- and 4-byte characters.
    for (const padding of ['', 'a', 'aa', 'aaa']) {
      const title = `${padding}${'ø€😀'.repeat(40)}`;
      const bytes = Buffer.from(renderMaintenanceIcs(event({ title })), 'utf8');
      let start = 0;
      for (let index = 0; index < bytes.length - 1; index += 1) {
        if (bytes[index] === 0x0d && bytes[index + 1] === 0x0a) {
          const line = bytes.subarray(start, index);
          expect(line.length).toBeLessThanOrEqual(75);
          expect(() => decoder.decode(line)).not.toThrow();
          start = index + 2;
        }
      }
      expect(parse(bytes.toString('utf8')).event.summary).toBe(title);
    }
  });

  it('escapes backslash, semicolon, comma and line breaks, and round-trips them', () => {
    const title = 'a\\b;c,d';
    const description = 'linje 1\nlinje 2\r\nlinje 3\rslutt; med, tegn \\n som tekst';
    const ics = renderMaintenanceIcs(event({ title, description }));
    expect(ics).toContain('SUMMARY;LANGUAGE=nb:a\\\\b\\;c\\,d\r\n');
    const parsed = parse(ics).event;
    expect(parsed.summary).toBe(title);
    expect(parsed.description).toContain('linje 1\nlinje 2\nlinje 3\nslutt; med, tegn \\n som tekst');
  });

  it('a line break in the title cannot inject a property', () => {
    const title = 'Nedetid\r\nATTENDEE:mailto:angriper@example.org\r\nSTATUS:CANCELLED';
    const ics = renderMaintenanceIcs(event({ title }));
    const { vevent, event: parsed } = parse(ics);
    expect(vevent.getAllProperties('attendee')).toHaveLength(0);
    expect(vevent.getAllProperties('status')).toHaveLength(1);
    expect(vevent.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(parsed.summary).toBe('Nedetid\nATTENDEE:mailto:angriper@example.org\nSTATUS:CANCELLED');
  });

  it('drops control characters, and encodes quotes and line breaks in the organiser name (RFC 6868)', () => {
    const ics = renderMaintenanceIcs(
      event({
        title: 'Ned\u0000e\u0007tid\u007F',
        organiser: { name: 'BOTT "SA"\nDrift ^', address: 'mailto:x@y.no' },
      }),
    );
    expect(ics).toContain('ORGANIZER;CN="BOTT ^\'SA^\'^nDrift ^^":mailto:x@y.no');
    const { vevent, event: parsed } = parse(ics);
    expect(parsed.summary).toBe('Nedetid');
    expect(vevent.getFirstProperty('organizer')!.getParameter('cn')).toBe('BOTT "SA"\nDrift ^');
  });

  it.each<[string, Partial<MaintenanceEvent>, RegExp]>([
    ['end before start', { end: new Date('2025-03-08T05:00:00Z') }, /end must be after start/],
    ['end equal to start', { end: new Date('2025-03-08T06:00:00Z') }, /end must be after start/],
    ['an invalid date', { start: new Date('nope') }, /start must be a valid Date/],
    ['a relative URL', { url: '/announcements/1' }, /url must be an absolute URL/],
    ['a negative sequence', { sequence: -1 }, /sequence must be a non-negative integer/],
    ['a fractional sequence', { sequence: 1.5 }, /sequence must be a non-negative integer/],
    [
      'an organiser address that is not a URI',
      { organiser: { name: 'X', address: 'noreply@x.no' } },
      /organiser\.address/,
    ],
    [
      'an organiser address with a line break',
      { organiser: { name: 'X', address: 'mailto:a@b.no\r\nX:y' } },
      /organiser\.address/,
    ],
    ['an empty uid', { uid: ' ' }, /uid must be non-empty/],
    ['an empty title', { title: '' }, /title must be non-empty/],
    ['an unknown status', { status: 'tentative' as 'confirmed' }, /status must be confirmed or cancelled/],
  ])('refuses %s', (_name, overrides, message) => {
    let thrown: unknown;
    try {
      renderMaintenanceIcs(event(overrides));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('internal_error');
    expect((thrown as AppError).message).toMatch(message);
  });
});

describe('foldLine and escapeText', () => {
  it('leaves a line of exactly 75 octets alone and folds one of 76', () => {
    expect(foldLine('x'.repeat(75))).toBe('x'.repeat(75));
    expect(foldLine('x'.repeat(76))).toBe(`${'x'.repeat(75)}\r\n x`);
    // Continuation lines hold 74 octets after the folding space.
    expect(foldLine('x'.repeat(75 + 74 + 1))).toBe(`${'x'.repeat(75)}\r\n ${'x'.repeat(74)}\r\n x`);
  });

  it('moves a multi-byte character that would straddle the boundary to the next line', () => {
    // 74 ASCII octets + a 2-octet "ø" = 76: the "ø" must move whole.
    expect(foldLine(`${'x'.repeat(74)}ø`)).toBe(`${'x'.repeat(74)}\r\n ø`);
    // A 4-octet emoji after 72 octets (= 76) moves whole as well.
    expect(foldLine(`${'x'.repeat(72)}😀`)).toBe(`${'x'.repeat(72)}\r\n 😀`);
  });

  it('escapes in one pass, so a backslash before n is not read as a line break', () => {
    expect(escapeText('\\n')).toBe('\\\\n');
    expect(escapeText('a\nb')).toBe('a\\nb');
    expect(escapeText('a;b,c')).toBe('a\\;b\\,c');
    expect(escapeText('\tkeeps tabs')).toBe('\tkeeps tabs');
  });
});
