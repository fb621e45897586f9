/**
 * Small but well-formed files of every kind attachments accept (and some they refuse), made in memory for tests.
 * ZIP-based documents are real ZIP archives (CRC-32, deflate, central directory): `unzip -t` accepts them.
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** A 1×1 transparent PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==',
  'base64',
);

/** A 1×1 GIF. */
export const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** The start of a JFIF JPEG (signature, APP0) and its end marker: enough for signature checks. */
export const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'),
  Buffer.from([0xff, 0xd9]),
]);

/** A RIFF container of type WEBP with a lossless 1×1 bitstream. */
export const WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

/** A minimal PDF with one empty page; `marker` makes each one different. */
export function pdf(marker = 'x'): Buffer {
  return Buffer.from(
    `%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n` +
      `2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n` +
      `3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 10 10]>> endobj\n` +
      `% ${marker}\ntrailer <</Root 1 0 R>>\n%%EOF\n`,
    'latin1',
  );
}

/**
 * An OLE compound file ([MS-CFB] version 3, 512-byte sectors) whose directory holds a root storage and the named
 * entries (empty streams, or storages when the name is in `storages`): sector 0 is the FAT, the directory follows,
 * spread over as many sectors as it needs. `file` calls it "Composite Document File V2 Document".
 */
export function ole(entries: readonly string[], storages: readonly string[] = []): Buffer {
  const names = ['Root Entry', ...entries];
  const directorySectors = Math.ceil(names.length / 4);
  const header = Buffer.alloc(512, 0);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header, 0);
  header.writeUInt16LE(0x3e, 0x18); // minor version
  header.writeUInt16LE(3, 0x1a); // major version
  header.writeUInt16LE(0xfffe, 0x1c); // byte order
  header.writeUInt16LE(9, 0x1e); // 512-byte sectors
  header.writeUInt16LE(6, 0x20); // 64-byte mini sectors
  header.writeUInt32LE(1, 0x2c); // one FAT sector
  header.writeUInt32LE(1, 0x30); // the directory starts in sector 1
  header.writeUInt32LE(4096, 0x38); // mini stream cutoff
  header.writeUInt32LE(0xfffffffe, 0x3c); // no mini FAT
  header.writeUInt32LE(0xfffffffe, 0x44); // no DIFAT sectors
  header.fill(0xff, 0x4c, 512);
  header.writeUInt32LE(0, 0x4c); // the FAT is sector 0
  const fat = Buffer.alloc(512, 0xff);
  fat.writeUInt32LE(0xfffffffd, 0); // sector 0: FAT
  for (let i = 1; i <= directorySectors; i++) fat.writeUInt32LE(i === directorySectors ? 0xfffffffe : i + 1, i * 4);
  const directory = Buffer.alloc(512 * directorySectors, 0);
  names.forEach((name, i) => {
    const at = i * 128;
    directory.write(`${name}\0`, at, 'utf16le');
    directory.writeUInt16LE((name.length + 1) * 2, at + 0x40);
    directory.writeUInt8(i === 0 ? 5 : storages.includes(name) ? 1 : 2, at + 0x42);
    directory.writeUInt32LE(0xffffffff, at + 0x44); // left sibling
    directory.writeUInt32LE(i + 1 < names.length && i > 0 ? i + 1 : 0xffffffff, at + 0x48); // right sibling
    directory.writeUInt32LE(i === 0 && names.length > 1 ? 1 : 0xffffffff, at + 0x4c); // child
    directory.writeUInt32LE(i === 0 ? 0xfffffffe : 0, at + 0x74); // start sector
  });
  return Buffer.concat([header, fat, directory]);
}

export const SVG = Buffer.from(
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n',
);

export const HTML = Buffer.from('<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n');

export interface ZipEntry {
  name: string;
  data: string | Buffer;
  /** Stored without compression (as ODF's `mimetype` must be); deflated otherwise. */
  stored?: boolean;
}

/** A ZIP archive of the entries, in order. */
export function zip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const body = entry.stored ? data : deflateRawSync(data);
    const method = entry.stored ? 0 : 8;
    const name = Buffer.from(entry.name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES =
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';

/** An Office Open XML package with the main part of its kind. */
export function ooxml(kind: 'docx' | 'xlsx' | 'pptx', extra: ZipEntry[] = []): Buffer {
  const main = { docx: 'word/document.xml', xlsx: 'xl/workbook.xml', pptx: 'ppt/presentation.xml' }[kind];
  return zip([
    { name: '[Content_Types].xml', data: CONTENT_TYPES },
    { name: '_rels/.rels', data: '<?xml version="1.0"?><Relationships/>' },
    { name: main, data: '<?xml version="1.0"?><document/>' },
    ...extra,
  ]);
}

export const ODF_TYPES = {
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
} as const;

/** An OpenDocument package: the stored `mimetype` entry first, as the standard requires. */
export function odf(mimetype: string, extra: ZipEntry[] = []): Buffer {
  return zip([
    { name: 'mimetype', data: mimetype, stored: true },
    { name: 'content.xml', data: '<?xml version="1.0"?><office:document-content/>' },
    { name: 'META-INF/manifest.xml', data: '<?xml version="1.0"?><manifest:manifest/>' },
    ...extra,
  ]);
}
