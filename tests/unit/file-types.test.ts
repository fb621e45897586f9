/** src/content/file-types.ts: recognising content, checking declared types, file names and Content-Disposition. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_MEDIA_TYPE_LIST,
  asciiFilename,
  checkAttachmentType,
  contentDisposition,
  detectContent,
  dispositionFor,
  MAX_FILENAME_LENGTH,
  mediaTypeOf,
  sanitiseFilename,
  servedContentType,
  storedFilename,
  zipEntryNames,
} from '../../src/content/file-types.js';
import { GIF, HTML, JPEG, ODF_TYPES, odf, ole, ooxml, PNG, pdf, SVG, WEBP, zip } from '../helpers/files.js';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const text = (value: string) => Buffer.from(value);

describe('detectContent', () => {
  it.each([
    ['PDF', pdf(), ['application/pdf']],
    ['PNG', PNG, ['image/png']],
    ['JPEG', JPEG, ['image/jpeg']],
    ['GIF', GIF, ['image/gif']],
    ['WebP', WEBP, ['image/webp']],
    ['docx', ooxml('docx'), [DOCX]],
    ['xlsx', ooxml('xlsx'), [XLSX]],
    ['pptx', ooxml('pptx'), [PPTX]],
    ['odt', odf(ODF_TYPES.odt), [ODF_TYPES.odt]],
    ['ods', odf(ODF_TYPES.ods), [ODF_TYPES.ods]],
    ['odp', odf(ODF_TYPES.odp), [ODF_TYPES.odp]],
    ['doc', ole(['WordDocument', '1Table', '\u0005SummaryInformation']), ['application/msword']],
    ['xls', ole(['Workbook']), ['application/vnd.ms-excel']],
    ['xls (Excel 5/95)', ole(['Book']), ['application/vnd.ms-excel']],
    ['ppt', ole(['Current User', 'PowerPoint Document']), ['application/vnd.ms-powerpoint']],
    [
      'ppt with its directory over several sectors',
      ole([...'abcdefghij'].concat('PowerPoint Document')),
      ['application/vnd.ms-powerpoint'],
    ],
    ['text', text('Møte i Tromsø kl. 10\r\n\tSe vedlegg.\f\n'), ['text/plain', 'text/csv']],
    ['text with a byte order mark', text('\ufeffa;b\n1;2\n'), ['text/plain', 'text/csv']],
    ['text that mentions a tag later', text('Skriv <b>fet</b> slik'), ['text/plain', 'text/csv']],
    ['text starting with a tag-like word', text('<plan> for uka'), ['text/plain', 'text/csv']],
  ])('recognises %s', (_what, bytes, types) => {
    expect(detectContent(bytes).types).toEqual(types);
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['SVG', SVG],
    ['SVG without an XML declaration', text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')],
    ['HTML', HTML],
    ['HTML after white space, in upper case', text('\n\n  <HTML><BODY>hei</BODY></HTML>')],
    ['an HTML comment', text('<!-- x --><script>alert(1)</script>')],
    ['XML', text('<?xml version="1.0"?><a/>')],
    ['HTML after a byte order mark', text('\ufeff<script>alert(1)</script>')],
    ['text with NUL', Buffer.from([0x61, 0x00, 0x62])],
    ['text with a terminal escape', text('hei \u001b[2J')],
    ['invalid UTF-8', Buffer.from([0x61, 0xc3, 0x28])],
    ['Latin-1 text', Buffer.from('blåbær', 'latin1')],
    ['UTF-16 text', Buffer.from('\ufeffhei', 'utf16le')],
    ['a Windows program', Buffer.concat([text('MZ'), Buffer.alloc(64)])],
    ['an ELF program', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)])],
    ['a plain ZIP archive', zip([{ name: 'a.txt', data: 'hei' }])],
    ['a JAR', zip([{ name: 'META-INF/MANIFEST.MF', data: 'Main-Class: A\n' }])],
    ['a truncated ZIP', ooxml('docx').subarray(0, 60)],
    ['a macro-enabled Word document', ooxml('docx', [{ name: 'word/vbaProject.bin', data: 'x' }])],
    ['a macro-enabled Excel workbook', ooxml('xlsx', [{ name: 'xl/vbaProject.bin', data: 'x' }])],
    ['an OpenDocument file with Basic macros', odf(ODF_TYPES.odt, [{ name: 'Basic/Standard/Module1.xml', data: 'x' }])],
    ['an OpenDocument drawing (not accepted)', odf('application/vnd.oasis.opendocument.graphics')],
    ['a Windows installer (OLE, no Office stream)', ole(['\u0005SummaryInformation', 'Property'])],
    ['a Word 97 document with macros', ole(['WordDocument', 'Macros'], ['Macros'])],
    ['an Excel 97 workbook with macros', ole(['Workbook', '_VBA_PROJECT_CUR'], ['_VBA_PROJECT_CUR'])],
    ['a bare OLE header', Buffer.concat([ole([]).subarray(0, 8), Buffer.alloc(504)])],
    ['a truncated OLE file', ole(['WordDocument']).subarray(0, 1100)],
    ['a RIFF file that is not WebP', Buffer.concat([text('RIFF'), Buffer.alloc(4), text('WAVEfmt ')])],
  ])('accepts no type for %s', (_what, bytes) => {
    expect(detectContent(bytes).types).toEqual([]);
  });

  it('reads an OpenDocument type only from a stored mimetype entry that comes first', () => {
    const compressed = zip([{ name: 'mimetype', data: ODF_TYPES.odt }]);
    expect(detectContent(compressed).types).toEqual([]);
    const second = zip([
      { name: 'content.xml', data: '<x/>' },
      { name: 'mimetype', data: ODF_TYPES.odt, stored: true },
    ]);
    expect(detectContent(second).types).toEqual([]);
  });

  it('finds the central directory behind a trailing comment', () => {
    const archive = ooxml('docx');
    const comment = Buffer.from('made by a test');
    const withComment = Buffer.concat([archive.subarray(0, archive.length - 2), Buffer.alloc(2), comment]);
    withComment.writeUInt16LE(comment.length, archive.length - 2);
    expect(zipEntryNames(withComment)).toEqual(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
    expect(detectContent(withComment).types).toEqual([DOCX]);
  });

  it('never throws, whatever the bytes (random data, and random data behind each signature)', () => {
    const prefixes = [
      Buffer.alloc(0),
      Buffer.from('PK\x03\x04', 'latin1'),
      Buffer.from('%PDF-'),
      Buffer.from('RIFF'),
      ooxml('docx').subarray(0, 40),
      ole(['WordDocument']).subarray(0, 512),
    ];
    for (let i = 0; i < 2000; i++) {
      const prefix = prefixes[i % prefixes.length]!;
      const bytes = Buffer.concat([prefix, randomBytes(i % 300)]);
      const detected = detectContent(bytes);
      expect(typeof detected.label).toBe('string');
      // The tail of an archive, with a directory record pointing anywhere.
      const tail = Buffer.concat([randomBytes(i % 50), Buffer.from([0x50, 0x4b, 0x05, 0x06]), randomBytes(18)]);
      expect(() => zipEntryNames(tail)).not.toThrow();
    }
  });
});

describe('checkAttachmentType', () => {
  it('accepts the declared type when the bytes are of it, ignoring case and parameters', () => {
    expect(checkAttachmentType('application/pdf', pdf())).toEqual({ ok: true, mediaType: 'application/pdf' });
    expect(checkAttachmentType('Text/Plain; charset=UTF-8', text('hei'))).toEqual({
      ok: true,
      mediaType: 'text/plain',
    });
    expect(checkAttachmentType('text/csv', text('a;b'))).toEqual({ ok: true, mediaType: 'text/csv' });
    expect(checkAttachmentType('application/vnd.ms-excel', ole(['Workbook']))).toEqual({
      ok: true,
      mediaType: 'application/vnd.ms-excel',
    });
  });

  it('refuses bytes of another type than declared', () => {
    expect(checkAttachmentType('application/pdf', PNG)).toEqual({
      ok: false,
      reason: 'mismatch',
      declared: 'application/pdf',
      detected: 'a PNG image',
    });
    expect(checkAttachmentType('image/png', SVG)).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(checkAttachmentType(XLSX, ooxml('docx'))).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(checkAttachmentType('text/plain', HTML)).toMatchObject({ ok: false, detected: 'HTML or XML' });
    expect(checkAttachmentType('application/msword', pdf())).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(checkAttachmentType('application/msword', ole(['Workbook']))).toMatchObject({
      ok: false,
      reason: 'mismatch',
      detected: 'an Excel 97–2003 workbook',
    });
  });

  it('refuses types that are never accepted, and a missing type', () => {
    for (const type of ['image/svg+xml', 'text/html', 'application/xhtml+xml', 'text/javascript', 'application/zip']) {
      expect(checkAttachmentType(type, text('x')), type).toMatchObject({ ok: false, reason: 'not_allowed' });
    }
    expect(checkAttachmentType(undefined, pdf())).toMatchObject({
      ok: false,
      reason: 'not_allowed',
      declared: undefined,
    });
  });

  it('has a file of its own kind for every accepted type (no type is unreachable)', () => {
    const samples = [pdf(), PNG, JPEG, GIF, WEBP, ooxml('docx'), ooxml('xlsx'), ooxml('pptx'), text('x')];
    samples.push(ole(['WordDocument']), ole(['Workbook']), ole(['PowerPoint Document']));
    samples.push(odf(ODF_TYPES.odt), odf(ODF_TYPES.ods), odf(ODF_TYPES.odp));
    const reachable = new Set(samples.flatMap((bytes) => detectContent(bytes).types));
    expect([...reachable].sort()).toEqual([...ATTACHMENT_MEDIA_TYPE_LIST].sort());
  });
});

describe('media types as served', () => {
  it('parses a Content-Type header, serves text with its charset, and shows only images inline', () => {
    expect(mediaTypeOf(' Image/PNG ; q=1')).toBe('image/png');
    expect(mediaTypeOf('')).toBeUndefined();
    expect(mediaTypeOf(undefined)).toBeUndefined();
    expect(servedContentType('text/csv')).toBe('text/csv; charset=utf-8');
    expect(servedContentType('application/pdf')).toBe('application/pdf');
    expect(dispositionFor('image/webp')).toBe('inline');
    expect(dispositionFor('application/pdf')).toBe('attachment');
    expect(dispositionFor('text/plain')).toBe('attachment');
  });
});

describe('sanitiseFilename', () => {
  it.each([
    ['Tidsplan ØL.pdf', 'Tidsplan ØL.pdf'],
    ['Møtereferat – 1. desember 2026 (utkast).docx', 'Møtereferat – 1. desember 2026 (utkast).docx'],
    ['会议纪要.pdf', '会议纪要.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\kari\\Desktop\\plan.pdf', 'plan.pdf'],
    ['a\u0000b\u0007c\r\nd.pdf', 'abc d.pdf'],
    ['faktura\u202Efdp.exe', 'fakturafdp.exe'],
    ['\u2066skjult\u2069\u200b.txt', 'skjult.txt'],
    ['  mange    mellomrom\t.pdf  ', 'mange mellomrom .pdf'],
    ['.htaccess', 'htaccess'],
    ['slutt med punktum...', 'slutt med punktum'],
    ['spørsmål?.txt', 'spørsmål_.txt'],
    ['"sitat" <x>|y*.pdf', '_sitat_ _x__y_.pdf'],
    // NFD (as macOS sends names) becomes NFC.
    ['A\u030Arsrapport.pdf', 'Årsrapport.pdf'],
  ])('%j → %j', (raw, expected) => {
    expect(sanitiseFilename(raw)).toBe(expected);
  });

  it.each(['', '   ', '...', '../..', 'a/', '\u0000\u0001', '\u202E'])('has nothing left of %j', (raw) => {
    expect(sanitiseFilename(raw)).toBeNull();
  });
});

describe('storedFilename', () => {
  it('keeps an extension that fits the type, whatever its case', () => {
    expect(storedFilename('plan.PDF', 'application/pdf')).toBe('plan.PDF');
    expect(storedFilename('foto.jpeg', 'image/jpeg')).toBe('foto.jpeg');
    expect(storedFilename('logg.log', 'text/plain')).toBe('logg.log');
  });

  it('adds the usual extension to a name without one, or with one of another type', () => {
    expect(storedFilename('plan', 'application/pdf')).toBe('plan.pdf');
    expect(storedFilename('run.bat', 'text/plain')).toBe('run.bat.txt');
    expect(storedFilename('bilde.png', 'image/jpeg')).toBe('bilde.png.jpg');
    expect(storedFilename('data.txt', 'text/csv')).toBe('data.txt.csv');
    expect(storedFilename('versjon 1.2', 'application/pdf')).toBe('versjon 1.2.pdf');
  });

  it(`cuts long names to ${MAX_FILENAME_LENGTH} characters before the extension, between whole characters`, () => {
    const long = storedFilename(`${'a'.repeat(300)}.pdf`, 'application/pdf');
    expect(long).toBe(`${'a'.repeat(196)}.pdf`);
    const emoji = storedFilename(`${'👍🏽'.repeat(150)}.pdf`, 'application/pdf');
    expect([...emoji].length).toBeLessThanOrEqual(MAX_FILENAME_LENGTH);
    // Each 👍🏽 is two code points: never half of one.
    expect(emoji).toBe(`${'👍🏽'.repeat(98)}.pdf`);
    const withoutExtension = storedFilename('b'.repeat(250), 'text/plain');
    expect(withoutExtension).toBe(`${'b'.repeat(196)}.txt`);
    expect(storedFilename(`a${'\u0301'.repeat(400)}`, 'application/pdf')).toBe('attachment.pdf');
    expect(storedFilename('kort.pdf', 'application/pdf')).toBe('kort.pdf');
  });
});

describe('Content-Disposition', () => {
  it('gives an ASCII filename and the exact UTF-8 name (RFC 6266 / 8187)', () => {
    expect(contentDisposition('Tidsplan ØL.pdf', 'attachment')).toBe(
      `attachment; filename="Tidsplan OL.pdf"; filename*=UTF-8''Tidsplan%20%C3%98L.pdf`,
    );
    expect(contentDisposition('kart.png', 'inline')).toBe(`inline; filename="kart.png"; filename*=UTF-8''kart.png`);
  });

  it('spells Norwegian letters in ASCII and replaces what cannot be quoted safely', () => {
    expect(asciiFilename('Blåbær og rødgrøt på Ærø.pdf')).toBe('Blabaer og rodgrot pa AEro.pdf');
    expect(asciiFilename('Čapek – naïve.txt')).toBe('Capek _ naive.txt');
    expect(asciiFilename('会议.pdf')).toBe('__.pdf');
    expect(asciiFilename('a"b\\c%20.pdf')).toBe('a_b_c_20.pdf');
  });

  it("percent-encodes everything that is not an attr-char in filename*, including ' ( ) *", () => {
    const header = contentDisposition("Kari's (nye) plan*.pdf", 'attachment');
    expect(header).toContain(`filename*=UTF-8''Kari%27s%20%28nye%29%20plan%2A.pdf`);
    const encoded = header.split("UTF-8''")[1]!;
    expect(encoded).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
    expect(decodeURIComponent(encoded)).toBe("Kari's (nye) plan*.pdf");
  });
});
