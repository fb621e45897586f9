/**
 * Attachments: which files are accepted, what their bytes really are, what they are called, and how they are named in
 * a download. Pure: no I/O, no framework imports (node:zlib is not needed: only uncompressed ZIP metadata is read).
 *
 * A file is accepted when its declared media type (the upload's Content-Type) is one of ATTACHMENT_MEDIA_TYPES and
 * its content, recognised by its leading bytes ("magic numbers"), is of that type. The declared type alone proves
 * nothing: a browser told `image/png` may still sniff HTML, and a name ending in `.pdf` may hold a script. So:
 *
 * - PDF `%PDF-`; PNG, JPEG, GIF, WebP by their signatures.
 * - Office Open XML (docx/xlsx/pptx): a ZIP archive whose central directory lists `[Content_Types].xml` and the
 *   main part of the declared kind (`word/document.xml`, `xl/workbook.xml`, `ppt/presentation.xml`). Macro-enabled
 *   documents (a `vbaProject.bin` part) are refused whatever they are declared as.
 * - OpenDocument (odt/ods/odp): a ZIP archive whose first entry is the uncompressed `mimetype` file the standard
 *   requires, holding exactly the declared type; documents carrying Basic or script macros are refused.
 * - Legacy Office (doc/xls/ppt): an OLE compound file (`D0 CF 11 E0 A1 B1 1A E1`) whose directory holds the main
 *   stream of the declared kind (`WordDocument`, `Workbook`/`Book`, `PowerPoint Document`); installers (.msi),
 *   Outlook messages and documents with VBA macro storages are refused.
 * - Text (text/plain, text/csv): valid UTF-8 without NUL or other control characters than tab, line feed, carriage
 *   return and form feed, and not starting like HTML or XML (what a browser's sniffer would render as a page).
 *
 * Everything else — SVG, HTML, JavaScript, executables, archives — is refused (415).
 */

/** Accepted media types, with the file name extensions that fit each (the first is added when a name has none). */
export const ATTACHMENT_MEDIA_TYPES = {
  'application/pdf': ['pdf'],
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg', 'jpe'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['docx'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['xlsx'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['pptx'],
  'application/vnd.oasis.opendocument.text': ['odt'],
  'application/vnd.oasis.opendocument.spreadsheet': ['ods'],
  'application/vnd.oasis.opendocument.presentation': ['odp'],
  'application/msword': ['doc'],
  'application/vnd.ms-excel': ['xls'],
  'application/vnd.ms-powerpoint': ['ppt', 'pps'],
  'text/plain': ['txt', 'text', 'log', 'md'],
  'text/csv': ['csv'],
} as const satisfies Record<string, readonly string[]>;

export type AttachmentMediaType = keyof typeof ATTACHMENT_MEDIA_TYPES;

export const ATTACHMENT_MEDIA_TYPE_LIST = Object.keys(ATTACHMENT_MEDIA_TYPES) as AttachmentMediaType[];

/** Images a browser may show in place (Content-Disposition: inline); everything else downloads. */
const INLINE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const TEXT_TYPES: ReadonlySet<string> = new Set(['text/plain', 'text/csv']);

export function isAttachmentMediaType(value: string): value is AttachmentMediaType {
  return Object.hasOwn(ATTACHMENT_MEDIA_TYPES, value);
}

/**
 * The media type of a Content-Type header, lower-cased and without parameters (`Text/Plain; charset=utf-8` →
 * `text/plain`); undefined when there is none.
 */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** The Content-Type a stored attachment is served with: text gets its (checked) charset. */
export function servedContentType(mediaType: string): string {
  return TEXT_TYPES.has(mediaType) ? `${mediaType}; charset=utf-8` : mediaType;
}

export function dispositionFor(mediaType: string): 'inline' | 'attachment' {
  return INLINE_TYPES.has(mediaType) ? 'inline' : 'attachment';
}

// ---------------------------------------------------------------------------------------------------------------
// Recognising content

/** What the bytes were found to be: a label for people, and the accepted media types it fits (empty: none). */
export interface DetectedContent {
  label: string;
  types: readonly AttachmentMediaType[];
}

const OOXML_MAIN_PARTS: readonly [part: string, type: AttachmentMediaType, label: string][] = [
  ['word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'Word document'],
  ['xl/workbook.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'Excel workbook'],
  [
    'ppt/presentation.xml',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'PowerPoint presentation',
  ],
];

const ODF_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
]);

const NONE: readonly AttachmentMediaType[] = [];

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((byte, i) => bytes[at + i] === byte);
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** Recognises the content of a file by its bytes. Never throws, whatever the bytes. */
export function detectContent(bytes: Uint8Array): DetectedContent {
  if (bytes.length === 0) return { label: 'an empty file', types: NONE };
  if (startsWith(bytes, ascii('%PDF-'))) return { label: 'a PDF document', types: ['application/pdf'] };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { label: 'a PNG image', types: ['image/png'] };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { label: 'a JPEG image', types: ['image/jpeg'] };
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) {
    return { label: 'a GIF image', types: ['image/gif'] };
  }
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) {
    return { label: 'a WebP image', types: ['image/webp'] };
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return detectZip(bytes);
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return detectCompoundFile(bytes);
  return detectText(bytes);
}

/** The stream that makes a compound file a Word, Excel (97 and 5/95) or PowerPoint document. */
const OLE_MAIN_STREAMS: readonly [stream: string, type: AttachmentMediaType, label: string][] = [
  ['WordDocument', 'application/msword', 'a Word 97–2003 document'],
  ['Workbook', 'application/vnd.ms-excel', 'an Excel 97–2003 workbook'],
  ['Book', 'application/vnd.ms-excel', 'an Excel 5/95 workbook'],
  ['PowerPoint Document', 'application/vnd.ms-powerpoint', 'a PowerPoint 97–2003 presentation'],
];

/** Storages that hold VBA macros in Word (`Macros`) and Excel (`_VBA_PROJECT_CUR`) files. */
const OLE_MACRO_STORAGES: ReadonlySet<string> = new Set(['Macros', '_VBA_PROJECT_CUR', '_VBA_PROJECT', 'VBA']);

function detectCompoundFile(bytes: Uint8Array): DetectedContent {
  const names = compoundFileNames(bytes);
  if (names === null) return { label: 'a damaged OLE compound file', types: NONE };
  if (names.some((name) => OLE_MACRO_STORAGES.has(name))) {
    return { label: 'an Office 97–2003 document with macros', types: NONE };
  }
  for (const [stream, type, label] of OLE_MAIN_STREAMS) {
    if (names.includes(stream)) return { label, types: [type] };
  }
  // Installers (.msi), Outlook messages (.msg) and others share the container.
  return { label: 'an OLE compound file that is no Office document', types: NONE };
}

const ENDOFCHAIN = 0xfffffffe;
/** Bounds on what is read from a compound file, far above real documents (a few directory sectors). */
const MAX_DIRECTORY_SECTORS = 1024;
const MAX_DIFAT_SECTORS = 1024;

/**
 * The names of every entry (storages and streams) in an OLE compound file's directory ([MS-CFB]): the directory's
 * sector chain is followed through the FAT, whose sectors the header's DIFAT (and the DIFAT chain) locate. Null when
 * the file is truncated or inconsistent.
 */
export function compoundFileNames(bytes: Uint8Array): string[] | null {
  if (bytes.length < 512) return null;
  const shift = readU16(bytes, 0x1e);
  if (shift !== 9 && shift !== 12) return null;
  const sectorSize = 1 << shift;
  const perSector = sectorSize / 4;
  const sectorOffset = (sector: number) => (sector + 1) * sectorSize;
  const fatSectorCount = readU32(bytes, 0x2c);
  // Where the FAT's sectors are: the first 109 in the header, the rest in the DIFAT chain.
  const fatSectors: number[] = [];
  for (let i = 0; i < 109 && fatSectors.length < fatSectorCount; i++) fatSectors.push(readU32(bytes, 0x4c + i * 4));
  let difat = readU32(bytes, 0x44);
  for (let hops = 0; fatSectors.length < fatSectorCount && difat < ENDOFCHAIN; hops++) {
    const at = sectorOffset(difat);
    if (hops >= MAX_DIFAT_SECTORS || at + sectorSize > bytes.length) return null;
    for (let i = 0; i < perSector - 1 && fatSectors.length < fatSectorCount; i++) {
      fatSectors.push(readU32(bytes, at + i * 4));
    }
    difat = readU32(bytes, at + sectorSize - 4);
  }
  const next = (sector: number): number | null => {
    const fatSector = fatSectors[Math.floor(sector / perSector)];
    if (fatSector === undefined) return null;
    const at = sectorOffset(fatSector) + (sector % perSector) * 4;
    return at + 4 > bytes.length ? null : readU32(bytes, at);
  };
  const utf16 = new TextDecoder('utf-16le');
  const names: string[] = [];
  let sector = readU32(bytes, 0x30);
  for (let visited = 0; sector !== ENDOFCHAIN; visited++) {
    const at = sectorOffset(sector);
    if (visited >= MAX_DIRECTORY_SECTORS || sector > ENDOFCHAIN || at + sectorSize > bytes.length) return null;
    for (let entry = at; entry < at + sectorSize; entry += 128) {
      const nameBytes = readU16(bytes, entry + 0x40);
      const kind = bytes[entry + 0x42];
      // Unused entries have type 0; a name's length counts its terminating NUL (at most 32 UTF-16 units).
      if (kind === 0 || nameBytes < 2 || nameBytes > 64 || nameBytes % 2 !== 0) continue;
      names.push(utf16.decode(bytes.subarray(entry, entry + nameBytes - 2)));
    }
    const following = next(sector);
    if (following === null) return null;
    sector = following;
  }
  return names;
}

function detectZip(bytes: Uint8Array): DetectedContent {
  const odf = odfMimetype(bytes);
  const names = zipEntryNames(bytes);
  if (odf !== null) {
    if (!ODF_TYPES.has(odf)) return { label: `an OpenDocument file of type ${odf}`, types: NONE };
    if (names?.some((name) => name.startsWith('Basic/') || name.startsWith('Scripts/'))) {
      return { label: 'an OpenDocument file with macros', types: NONE };
    }
    return { label: 'an OpenDocument file', types: [odf as AttachmentMediaType] };
  }
  if (names === null) return { label: 'a damaged ZIP archive', types: NONE };
  const has = new Set(names);
  if (has.has('[Content_Types].xml')) {
    if (names.some((name) => /(^|\/)vbaProject\.bin$/i.test(name))) {
      return { label: 'an Office document with macros', types: NONE };
    }
    for (const [part, type, label] of OOXML_MAIN_PARTS) {
      if (has.has(part)) return { label: `a ${label}`, types: [type] };
    }
  }
  return { label: 'a ZIP archive', types: NONE };
}

const readU16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const readU32 = (b: Uint8Array, at: number) =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** An OpenDocument file's type: the content of its first ZIP entry when that is the stored (uncompressed) `mimetype`. */
function odfMimetype(bytes: Uint8Array): string | null {
  // Local file header: signature, version, flags, method @8, …, compressed size @18, name length @26, extra @28.
  if (bytes.length < 30) return null;
  const method = readU16(bytes, 8);
  const size = readU32(bytes, 18);
  const nameLength = readU16(bytes, 26);
  const extraLength = readU16(bytes, 28);
  const nameStart = 30;
  const dataStart = nameStart + nameLength + extraLength;
  if (method !== 0 || nameLength !== 8 || size === 0 || size > 200 || dataStart + size > bytes.length) return null;
  if (latin1.decode(bytes.subarray(nameStart, nameStart + nameLength)) !== 'mimetype') return null;
  const value = latin1.decode(bytes.subarray(dataStart, dataStart + size));
  return /^[a-z0-9.+/-]+$/.test(value) ? value : null;
}

/** The most central directory entries read; real documents have a few hundred. */
const MAX_ZIP_ENTRIES = 20_000;

/**
 * The names in a ZIP archive's central directory, found through its end-of-central-directory record (searched in the
 * last 64 KiB + 22 bytes, the most a trailing comment allows); null when the archive is damaged, truncated or ZIP64.
 */
export function zipEntryNames(bytes: Uint8Array): string[] | null {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  let eocd = -1;
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (readU32(bytes, at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return null;
  const count = readU16(bytes, eocd + 10);
  const size = readU32(bytes, eocd + 12);
  const offset = readU32(bytes, eocd + 16);
  if (count === 0xffff || offset === 0xffffffff || offset + size > eocd || count > MAX_ZIP_ENTRIES) return null;
  const names: string[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || readU32(bytes, at) !== CENTRAL) return null;
    const nameLength = readU16(bytes, at + 28);
    const extraLength = readU16(bytes, at + 30);
    const commentLength = readU16(bytes, at + 32);
    const end = at + 46 + nameLength;
    if (end > eocd) return null;
    names.push(latin1.decode(bytes.subarray(at + 46, end)));
    at = end + extraLength + commentLength;
  }
  return names;
}

/**
 * How HTML and XML start, after optional whitespace (the WHATWG MIME Sniffing standard's "text/html" patterns, plus
 * XML and SVG): a browser that guesses would render such a "text" file as a page.
 */
const MARKUP_START =
  /^(?:<!doctype html|<html|<head|<script|<iframe|<h1|<div|<font|<table|<a|<style|<title|<b|<body|<br|<p|<svg)[\s>/]|^<!--|^<\?xml/i;

/** Tab, line feed, form feed and carriage return: the control characters text files have. */
const TEXT_CONTROLS: ReadonlySet<number> = new Set([0x09, 0x0a, 0x0c, 0x0d]);

/**
 * NUL and other control characters mean binary data (or terminal escapes), not text to read. In UTF-8 they are single
 * bytes that never occur inside a multi-byte character, so the bytes are checked without decoding.
 */
function hasControlBytes(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if ((byte < 0x20 && !TEXT_CONTROLS.has(byte)) || byte === 0x7f) return true;
  }
  return false;
}

function detectText(bytes: Uint8Array): DetectedContent {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { label: 'binary data', types: NONE };
  }
  if (hasControlBytes(bytes)) return { label: 'binary data', types: NONE };
  const start = text.slice(0, 1024).replace(/^\ufeff?[\t\n\f\r ]*/, '');
  if (MARKUP_START.test(start)) return { label: 'HTML or XML', types: NONE };
  return { label: 'UTF-8 text', types: ['text/plain', 'text/csv'] };
}

/** The outcome of checking an upload's declared type against its bytes. */
export type TypeCheck =
  | { ok: true; mediaType: AttachmentMediaType }
  | { ok: false; reason: 'not_allowed' | 'mismatch'; declared: string | undefined; detected: string };

/** Whether `bytes` may be stored as an attachment declared as `contentType` (a Content-Type header value). */
export function checkAttachmentType(contentType: string | undefined, bytes: Uint8Array): TypeCheck {
  const declared = mediaTypeOf(contentType);
  const detected = detectContent(bytes);
  if (declared === undefined || !isAttachmentMediaType(declared)) {
    return { ok: false, reason: 'not_allowed', declared, detected: detected.label };
  }
  if (!detected.types.includes(declared)) return { ok: false, reason: 'mismatch', declared, detected: detected.label };
  return { ok: true, mediaType: declared };
}

// ---------------------------------------------------------------------------------------------------------------
// File names

export const MAX_FILENAME_LENGTH = 200;

/**
 * Invisible characters that change how a name reads rather than what it says: bidirectional overrides and isolates
 * (`‮fdp.exe` shows as `exe.pdf`), zero-width space and the byte order mark.
 */
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * A safe file name from what the uploader sent: its last path segment (`C:\Users\x\a.pdf`, `../../a.pdf` → `a.pdf`),
 * NFC-normalised, with line breaks and tabs as spaces, without other control and invisible direction characters, with characters Windows forbids in names
 * (`<>:"|?*`) as `_`, runs of white space as one space, and no leading dots or trailing dots and spaces. Letters of
 * any script stay ("Tidsplan ØL.pdf"). Null when nothing is left.
 */
export function sanitiseFilename(raw: string): string | null {
  const lastSegment = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const name = lastSegment
    .replace(/[\t\n\v\f\r]/g, ' ')
    .replace(/\p{Cc}/gu, '')
    .replace(INVISIBLE, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/gu, ' ')
    .replace(/^[\s.]+/u, '')
    .replace(/[\s.]+$/u, '');
  return name === '' ? null : name;
}

/**
 * The name an attachment is stored and served under: `name` (already sanitised) with an extension that fits the
 * media type — a name that has none, or another one, gets the type's usual extension added (`plan` → `plan.pdf`,
 * `run.bat` stored as text → `run.bat.txt`, so a download can never be opened as a program) — and at most
 * MAX_FILENAME_LENGTH characters, cut in the name before the extension, between whole characters.
 */
export function storedFilename(name: string, mediaType: AttachmentMediaType): string {
  const extensions: readonly string[] = ATTACHMENT_MEDIA_TYPES[mediaType];
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  const [base, suffix] = extensions.includes(extension)
    ? [name.slice(0, dot), name.slice(dot)]
    : [name, `.${extensions[0]}`];
  const room = MAX_FILENAME_LENGTH - [...suffix].length;
  if ([...base].length <= room) return base + suffix;
  let kept = '';
  let length = 0;
  for (const { segment } of new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(base)) {
    const size = [...segment].length;
    if (length + size > room) break;
    kept += segment;
    length += size;
  }
  // A name of one giant character (a letter under hundreds of combining marks) leaves nothing to keep.
  return (kept.replace(/[\s.]+$/u, '') || 'attachment') + suffix;
}

/** Letters the Unicode decomposition leaves as they are, spelled as Norwegians spell them without them. */
const ASCII_SPELLINGS: Record<string, string> = { Æ: 'AE', æ: 'ae', Ø: 'O', ø: 'o', ß: 'ss', Đ: 'D', đ: 'd' };

/**
 * The plain-ASCII form of a name for `filename=` (old clients that ignore `filename*`): accents dropped
 * ("Tidsplan ØL.pdf" → "Tidsplan OL.pdf"), anything else outside printable ASCII, and `"`, `\` and `%`, as `_`.
 */
export function asciiFilename(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[ÆæØøßĐđ]/g, (c) => ASCII_SPELLINGS[c]!)
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
}

/** RFC 8187 (was 5987) `ext-value` characters: everything but attr-char is percent-encoded. */
function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/**
 * `Content-Disposition` for a download (RFC 6266): `attachment` (or `inline`), an ASCII `filename` for old clients
 * and the exact name as `filename*=UTF-8''…`, which every current browser prefers.
 */
export function contentDisposition(name: string, disposition: 'inline' | 'attachment'): string {
  return `${disposition}; filename="${asciiFilename(name)}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}
