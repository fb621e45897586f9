/**
 * Attachments over HTTP, on real PostgreSQL and a real directory: upload, list, download (GET/HEAD/304), remove; the
 * content checks (413, 415), file names, who may do what (404 exactly as for an unknown id), and both storages.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import {
  addAttachment,
  MAX_ATTACHMENTS_PER_ANNOUNCEMENT,
  ORPHAN_GRACE_MS,
  removeOrphanedFiles,
} from '../../src/services/attachments.js';
import { csrfTokenFor, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { GIF, HTML, JPEG, ODF_TYPES, odf, ole, ooxml, PNG, pdf, SVG, WEBP } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';

const PUBLIC_URL = 'https://meldingskanal.example.org';
/** Small, so the limit is tested without megabytes. */
const MAX_BYTES = 4096;
const PDF_TYPE = 'application/pdf';
const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

let ctx: TestContext;
/** Bytes in PostgreSQL (no ATTACHMENT_DIR). */
let app: FastifyInstance;
/** The same database, bytes in a directory. */
let dirApp: FastifyInstance;
let dir: string;
let publicChannel: TestChannel;
let internalChannel: TestChannel;
let restrictedChannel: TestChannel;
let publisherId: string;
let publisherToken: string;
let readerToken: string; // UiB member, no role
let ntnuToken: string; // NTNU member, no role
let outsiderToken: string; // no member organisation
let uibOrganisationId: string;

const bearer = (token?: string) => (token ? { authorization: `Bearer ${token}` } : {});

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL, ATTACHMENT_MAX_BYTES: String(MAX_BYTES) });
  app = await buildApp(ctx.deps, { logger: false });
  dir = await mkdtemp(join(tmpdir(), 'mk-attachments-'));
  // ATTACHMENT_DIR is created on start when missing: point it one level below the temporary directory.
  dir = join(dir, 'files');
  dirApp = await buildApp(
    { ...ctx.deps, config: { ...ctx.config, attachments: { maxBytes: MAX_BYTES, dir } } },
    { logger: false },
  );
  const db = ctx.deps.db;
  publicChannel = await createChannel(db, { visibility: 'public' });
  internalChannel = await createChannel(db, { visibility: 'internal' });
  restrictedChannel = await createChannel(db, { visibility: 'restricted' });
  const publisher = await createUser(db, { organisationCode: 'UiO' });
  publisherId = publisher.id;
  for (const channel of [publicChannel, internalChannel, restrictedChannel]) {
    await grantRole(db, channel.id, publisher.id, 'publisher');
  }
  publisherToken = await tokenFor(db, publisher.id);
  const reader = await createUser(db, { organisationCode: 'UiB' });
  uibOrganisationId = reader.organisationId!;
  readerToken = await tokenFor(db, reader.id);
  ntnuToken = await tokenFor(db, (await createUser(db, { organisationCode: 'NTNU' })).id);
  outsiderToken = await tokenFor(db, (await createUser(db)).id);
});

afterAll(async () => {
  await app?.close();
  await dirApp?.close();
  await ctx?.close();
  if (dir) await rm(join(dir, '..'), { recursive: true, force: true });
});

async function announcement(
  channel: TestChannel,
  options: { status?: 'draft' | 'published' | 'retracted'; audience?: string[] } = {},
): Promise<string> {
  const status = options.status ?? 'published';
  const row = await ctx.deps.db.announcement.create({
    data: {
      channelId: channel.id,
      title: 'Vedlegg',
      body: 'Se vedlegget',
      status,
      publishedAt: status === 'draft' ? null : new Date(),
      retractedAt: status === 'retracted' ? new Date() : null,
      audienceOrganisationIds: options.audience ?? [],
    },
  });
  return row.id;
}

function upload(
  announcementId: string,
  options: {
    bytes: Buffer | Readable;
    type?: string;
    filename?: string | null;
    token?: string | null;
    on?: FastifyInstance;
  },
) {
  const query = options.filename === null ? '' : `?filename=${encodeURIComponent(options.filename ?? 'fil.pdf')}`;
  return (options.on ?? app).inject({
    method: 'POST',
    url: `/api/v1/announcements/${announcementId}/attachments${query}`,
    headers: {
      ...bearer(options.token === null ? undefined : (options.token ?? publisherToken)),
      ...(options.type === undefined
        ? { 'content-type': PDF_TYPE }
        : options.type
          ? { 'content-type': options.type }
          : {}),
    },
    payload: options.bytes,
  });
}

/** The path of a view's absolute URL. */
const pathOf = (url: string) => new URL(url).pathname;

function download(url: string, token?: string, extra: Record<string, string> = {}, on = app) {
  return on.inject({ method: 'GET', url: pathOf(url), headers: { ...bearer(token), ...extra } });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('upload and download, bytes in PostgreSQL', () => {
  it('stores the file with its hash and serves the same bytes with safe headers and the Unicode name', async () => {
    const id = await announcement(publicChannel);
    const bytes = pdf('round trip');
    const response = await upload(id, { bytes, filename: 'Tidsplan ØL.pdf' });
    expect(response.statusCode).toBe(201);
    const view = response.json();
    expect(view).toEqual({
      id: expect.any(String),
      filename: 'Tidsplan ØL.pdf',
      contentType: PDF_TYPE,
      size: bytes.length,
      url: `${PUBLIC_URL}/api/v1/attachments/${view.id}/Tidsplan%20%C3%98L.pdf`,
    });
    expect(response.headers.location).toBe(view.url);
    const row = await ctx.deps.db.attachment.findUniqueOrThrow({ where: { id: view.id } });
    expect(row).toMatchObject({ storage: 'database', sha256: sha256(bytes), uploaderId: publisherId });
    expect(Buffer.from(row.data!)).toEqual(bytes);

    const got = await download(view.url);
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(bytes)).toBe(true);
    expect(got.headers['content-type']).toBe(PDF_TYPE);
    expect(got.headers['content-length']).toBe(String(bytes.length));
    expect(got.headers['content-disposition']).toBe(
      `attachment; filename="Tidsplan OL.pdf"; filename*=UTF-8''Tidsplan%20%C3%98L.pdf`,
    );
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(got.headers.etag).toBe(`"${sha256(bytes)}"`);
    // Anyone may read a published announcement of a public channel for everyone.
    expect(got.headers['cache-control']).toBe('public, max-age=300');

    const audit = await ctx.deps.db.auditLog.findFirstOrThrow({
      where: { action: 'announcement.attach', targetId: id },
    });
    expect(audit.details).toMatchObject({ attachment: view.id, filename: 'Tidsplan ØL.pdf', sha256: sha256(bytes) });
  });

  it('lists it on the announcement and in the attachment list, oldest first', async () => {
    const id = await announcement(publicChannel);
    const first = (await upload(id, { bytes: PNG, type: 'image/png', filename: 'kart.png' })).json();
    const second = (await upload(id, { bytes: pdf('to'), filename: 'referat' })).json();
    expect(second.filename).toBe('referat.pdf');
    const read = await app.inject({ method: 'GET', url: `/api/v1/announcements/${id}` });
    expect(read.json().attachments).toEqual([first, second]);
    const list = await app.inject({ method: 'GET', url: `/api/v1/announcements/${id}/attachments` });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [first, second] });
  });

  it('accepts every kind of file it should, each under its own type', async () => {
    const id = await announcement(publicChannel);
    const files: [Buffer, string, string][] = [
      [PNG, 'image/png', 'a.png'],
      [JPEG, 'image/jpeg', 'b.jpg'],
      [GIF, 'image/gif', 'c.gif'],
      [WEBP, 'image/webp', 'd.webp'],
      [ooxml('docx'), DOCX_TYPE, 'e.docx'],
      [ooxml('xlsx'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'f.xlsx'],
      [ooxml('pptx'), 'application/vnd.openxmlformats-officedocument.presentationml.presentation', 'g.pptx'],
      [odf(ODF_TYPES.odt), ODF_TYPES.odt, 'h.odt'],
      [odf(ODF_TYPES.ods), ODF_TYPES.ods, 'i.ods'],
      [ole(['WordDocument', '1Table']), 'application/msword', 'l.doc'],
      [ole(['Workbook']), 'application/vnd.ms-excel', 'm.xls'],
      [Buffer.from('dato;tid\n2026-12-01;10:00\n'), 'text/csv', 'j.csv'],
      [Buffer.from('Hei på deg, æøå!\n'), 'text/plain; charset=utf-8', 'k.txt'],
    ];
    for (const [bytes, type, filename] of files) {
      const response = await upload(id, { bytes, type, filename });
      expect(response.statusCode, filename).toBe(201);
      expect(response.json().contentType, filename).toBe(type.split(';')[0]);
      const got = await download(response.json().url);
      expect(got.rawPayload.equals(bytes), filename).toBe(true);
    }
    const text = (await app.inject({ method: 'GET', url: `/api/v1/announcements/${id}/attachments` })).json().items;
    const plain = text.find((a: { filename: string }) => a.filename === 'k.txt');
    const served = await download(plain.url);
    expect(served.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(served.headers['content-disposition']).toMatch(/^attachment;/);
    const image = await download(text.find((a: { filename: string }) => a.filename === 'a.png').url);
    expect(image.headers['content-disposition']).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
  });

  it('answers 304 to If-None-Match with the ETag, and HEAD with the headers and no body', async () => {
    const id = await announcement(internalChannel);
    const bytes = pdf('conditional');
    const view = (await upload(id, { bytes })).json();
    const first = await download(view.url, readerToken);
    expect(first.statusCode).toBe(200);
    // Not everyone may read it: browsers keep it, shared caches do not, and each use asks again.
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const again = await download(view.url, readerToken, { 'if-none-match': first.headers.etag as string });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    expect(again.headers.etag).toBe(first.headers.etag);
    const other = await download(view.url, readerToken, { 'if-none-match': '"something-else"' });
    expect(other.statusCode).toBe(200);

    const head = await app.inject({ method: 'HEAD', url: pathOf(view.url), headers: bearer(readerToken) });
    expect(head.statusCode).toBe(200);
    expect(head.rawPayload.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(bytes.length));
    expect(head.headers['content-type']).toBe(PDF_TYPE);
    expect(head.headers['content-disposition']).toMatch(/^attachment; filename="fil.pdf"/);
  });

  it('finds the file by its id whatever name the address ends with, and 404s an unknown id', async () => {
    const id = await announcement(publicChannel);
    const view = (await upload(id, { bytes: pdf('name') })).json();
    const renamed = await app.inject({ method: 'GET', url: `/api/v1/attachments/${view.id}/annet-navn.exe` });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.headers['content-disposition']).toMatch(/filename="fil.pdf"/);
    const unknown = await app.inject({ method: 'GET', url: `/api/v1/attachments/${randomUUID()}/fil.pdf` });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toEqual({ code: 'not_found', message: 'Attachment was not found' });
    const malformed = await app.inject({ method: 'GET', url: '/api/v1/attachments/not-a-uuid/fil.pdf' });
    expect(malformed.statusCode).toBe(400);
  });
});

describe('upload and download, bytes in ATTACHMENT_DIR', () => {
  it('writes the file under its id (no temporary file left), streams it back, and removes it with the row', async () => {
    const id = await announcement(publicChannel);
    const bytes = Buffer.concat([PNG, Buffer.alloc(2000, 7)]);
    const response = await upload(id, { bytes, type: 'image/png', filename: 'Kart over Blindern.png', on: dirApp });
    expect(response.statusCode).toBe(201);
    const view = response.json();
    const row = await ctx.deps.db.attachment.findUniqueOrThrow({ where: { id: view.id } });
    expect(row).toMatchObject({ storage: 'directory', data: null, sha256: sha256(bytes), size: bytes.length });
    expect(await readdir(dir)).toContain(view.id);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
    expect((await readFile(join(dir, view.id))).equals(bytes)).toBe(true);

    const got = await download(view.url, undefined, {}, dirApp);
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(bytes)).toBe(true);
    expect(got.headers['content-length']).toBe(String(bytes.length));
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['content-disposition']).toBe(
      `inline; filename="Kart over Blindern.png"; filename*=UTF-8''Kart%20over%20Blindern.png`,
    );
    const head = await dirApp.inject({ method: 'HEAD', url: pathOf(view.url) });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(bytes.length));
    expect(head.rawPayload.length).toBe(0);

    const removed = await dirApp.inject({
      method: 'DELETE',
      url: `/api/v1/attachments/${view.id}`,
      headers: bearer(publisherToken),
    });
    expect(removed.statusCode).toBe(204);
    expect(await readdir(dir)).not.toContain(view.id);
    expect(await ctx.deps.db.attachment.count({ where: { id: view.id } })).toBe(0);
    expect(await ctx.deps.db.auditLog.count({ where: { action: 'announcement.detach', targetId: id } })).toBe(1);
    expect((await download(view.url, undefined, {}, dirApp)).statusCode).toBe(404);
    expect((await dirApp.inject({ method: 'GET', url: `/api/v1/announcements/${id}` })).json().attachments).toEqual([]);
  });

  it('serves attachments stored before the directory was configured from PostgreSQL', async () => {
    const id = await announcement(publicChannel);
    const bytes = pdf('older');
    const view = (await upload(id, { bytes })).json();
    const got = await download(view.url, undefined, {}, dirApp);
    expect(got.rawPayload.equals(bytes)).toBe(true);
  });

  it('removes the written file again when the row cannot be committed', async () => {
    const id = await announcement(publicChannel);
    const before = await readdir(dir);
    const failing = new Proxy(ctx.deps.db, {
      get(target, property, receiver) {
        if (property === '$transaction') return () => Promise.reject(new Error('the database went away'));
        return Reflect.get(target, property, receiver);
      },
    });
    await expect(
      addAttachment(
        { db: failing, publicUrl: PUBLIC_URL, attachments: { maxBytes: MAX_BYTES, dir } },
        { kind: 'user', userId: publisherId, isAdmin: false, organisationId: null, scopes: ['read', 'publish'] },
        id,
        { filename: 'tapt.pdf', contentType: PDF_TYPE, bytes: pdf('lost') },
      ),
    ).rejects.toThrow('the database went away');
    expect(await readdir(dir)).toEqual(before);
    expect(await ctx.deps.db.attachment.count({ where: { announcementId: id } })).toBe(0);
  });
});

describe('files without rows in ATTACHMENT_DIR', () => {
  /** Makes a file look written `ageMs` ago. */
  const age = async (name: string, ageMs: number) => {
    const then = new Date(Date.now() - ageMs);
    await utimes(join(dir, name), then, then);
  };

  it('removes the files of a deleted channel, and old temporary files, but nothing young, live or unknown', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    await grantRole(ctx.deps.db, channel.id, publisherId, 'publisher');
    const doomed = (await upload(await announcement(channel), { bytes: pdf('doomed'), on: dirApp })).json();
    const live = (await upload(await announcement(publicChannel), { bytes: pdf('live'), on: dirApp })).json();
    // Deleting a channel cascades to its attachment rows; the file stays behind.
    await ctx.deps.db.channel.delete({ where: { id: channel.id } });
    expect(await readdir(dir)).toContain(doomed.id);
    const young = randomUUID();
    const temporary = `.${randomUUID()}.0123456789ab.tmp`;
    await writeFile(join(dir, young), 'young');
    await writeFile(join(dir, temporary), 'half written');
    await writeFile(join(dir, 'LES-MEG.txt'), 'not ours');
    for (const name of [doomed.id, live.id, temporary, 'LES-MEG.txt']) await age(name, ORPHAN_GRACE_MS + 60_000);

    const removed = await removeOrphanedFiles(ctx.deps.db, dir);
    expect(removed.sort()).toEqual([doomed.id, temporary].sort());
    const left = await readdir(dir);
    expect(left).toEqual(expect.arrayContaining([live.id, young, 'LES-MEG.txt']));
    expect(left).not.toContain(doomed.id);
    expect((await download(live.url, undefined, {}, dirApp)).statusCode).toBe(200);
    await rm(join(dir, young));
    await rm(join(dir, 'LES-MEG.txt'));
  });

  it('clears them when the API starts', async () => {
    const orphan = randomUUID();
    await writeFile(join(dir, orphan), 'left behind');
    await age(orphan, ORPHAN_GRACE_MS + 60_000);
    const started = await buildApp(
      { ...ctx.deps, config: { ...ctx.config, attachments: { maxBytes: MAX_BYTES, dir } } },
      { logger: false },
    );
    try {
      await started.ready();
      await waitFor(async () => !(await readdir(dir)).includes(orphan), { what: 'the orphaned file to go' });
    } finally {
      await started.close();
    }
  });
});

describe('a wrong ATTACHMENT_DIR', () => {
  it('stops the start with a clear message when it cannot be a writable directory', async () => {
    const file = join(dir, '..', 'not-a-directory');
    await writeFile(file, 'x');
    await expect(
      buildApp(
        { ...ctx.deps, config: { ...ctx.config, attachments: { maxBytes: MAX_BYTES, dir: join(file, 'files') } } },
        { logger: false },
      ),
    ).rejects.toThrow(`ATTACHMENT_DIR ${join(file, 'files')} is not a directory this process can write to`);
  });
});

describe('what is refused', () => {
  it('answers 413 above ATTACHMENT_MAX_BYTES, also for a body without Content-Length', async () => {
    const id = await announcement(publicChannel);
    const atLimit = Buffer.alloc(MAX_BYTES, 'a');
    expect((await upload(id, { bytes: atLimit, type: 'text/plain', filename: 'full.txt' })).statusCode).toBe(201);
    const over = await upload(id, { bytes: Buffer.alloc(MAX_BYTES + 1, 'a'), type: 'text/plain' });
    expect(over.statusCode).toBe(413);
    expect(over.json().error.code).toBe('payload_too_large');
    // Streamed (chunked): the limit holds while reading.
    const streamed = await upload(id, {
      bytes: Readable.from([Buffer.alloc(MAX_BYTES, 'a'), Buffer.from('b')]),
      type: 'text/plain',
    });
    expect(streamed.statusCode).toBe(413);
    expect(streamed.json().error.code).toBe('payload_too_large');
    expect(await ctx.deps.db.attachment.count({ where: { announcementId: id } })).toBe(1);
  });

  it('answers 415 for types it never accepts and for bytes that are not what the type says', async () => {
    const id = await announcement(publicChannel);
    const refused: [string, Buffer, string | null][] = [
      ['a PNG declared as a PDF', PNG, PDF_TYPE],
      ['a PDF declared as a PNG', pdf(), 'image/png'],
      ['an HTML page', HTML, 'text/html'],
      ['an HTML page declared as text', HTML, 'text/plain'],
      ['an SVG image', SVG, 'image/svg+xml'],
      ['an SVG image declared as a PNG', SVG, 'image/png'],
      ['JavaScript', Buffer.from('alert(1)'), 'text/javascript'],
      ['a bare ZIP declared as a Word document', Buffer.from('PK\x03\x04 not really', 'latin1'), DOCX_TYPE],
      ['a macro-enabled Word document', ooxml('docx', [{ name: 'word/vbaProject.bin', data: 'x' }]), DOCX_TYPE],
      ['an OpenDocument text declared as a spreadsheet', odf(ODF_TYPES.odt), ODF_TYPES.ods],
      [
        'a Windows installer declared as a Word document',
        ole(['\u0005SummaryInformation', 'Property']),
        'application/msword',
      ],
      ['binary data declared as text', Buffer.from([0x68, 0x00, 0x69]), 'text/plain'],
      ['JSON', Buffer.from('{"a":1}'), 'application/json'],
      ['no Content-Type', pdf(), null],
    ];
    for (const [what, bytes, type] of refused) {
      const response = await upload(id, { bytes, type: type ?? '' });
      expect(response.statusCode, what).toBe(415);
      expect(response.json().error.code, what).toBe('unsupported_media_type');
    }
    const mismatch = await upload(id, { bytes: PNG, type: PDF_TYPE });
    expect(mismatch.json().error).toMatchObject({
      message: expect.stringContaining('a PNG image, not application/pdf'),
      details: { declared: PDF_TYPE, detected: 'a PNG image' },
    });
    expect(await ctx.deps.db.attachment.count({ where: { announcementId: id } })).toBe(0);
  });

  it('needs a file name with something in it, and a non-empty file', async () => {
    const id = await announcement(publicChannel);
    const missing = await upload(id, { bytes: pdf(), filename: null });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details).toEqual([{ field: 'query.filename', message: 'is required' }]);
    const dots = await upload(id, { bytes: pdf(), filename: '../..' });
    expect(dots.statusCode).toBe(400);
    expect(dots.json().error.details).toEqual([{ field: 'query.filename', message: expect.any(String) }]);
    const empty = await upload(id, { bytes: Buffer.alloc(0) });
    expect(empty.statusCode).toBe(400);
  });

  it('cleans file names (no path, a fitting extension, at most 200 characters) and refuses direction overrides', async () => {
    const id = await announcement(publicChannel);
    const named = async (filename: string, bytes = pdf(), type = PDF_TYPE) =>
      (await upload(id, { bytes, type, filename })).json().filename;
    expect(await named('../../etc/passwd', Buffer.from('root:x:0:0'), 'text/plain')).toBe('passwd.txt');
    expect(await named('C:\\Users\\kari\\Plan.PDF')).toBe('Plan.PDF');
    // A name is a name (README, "characters it refuses"): "rapport\u202Efdp.exe" would display as "rapportexe.pdf".
    const override = await upload(id, { bytes: pdf(), filename: 'rapport\u202Efdp.exe' });
    expect(override.statusCode).toBe(400);
    expect(override.json().error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'query.filename', message: expect.any(String) }],
    });
    expect(await named('kjør.bat', Buffer.from('echo hei'), 'text/plain')).toBe('kjør.bat.txt');
    const long = await upload(id, { bytes: pdf('long'), filename: `${'å'.repeat(300)}.pdf` });
    const view = long.json();
    expect([...view.filename].length).toBe(200);
    expect(view.filename).toBe(`${'å'.repeat(196)}.pdf`);
    // Its address ends in the percent-encoded name, far longer than a router's usual parameter limit.
    expect(pathOf(view.url).length).toBeGreaterThan(1000);
    const got = await download(view.url);
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-disposition']).toContain(`filename*=UTF-8''${'%C3%A5'.repeat(196)}.pdf`);
  });

  it('refuses uploads to a retracted announcement and beyond the most attachments per announcement (409)', async () => {
    const retracted = await announcement(publicChannel, { status: 'retracted' });
    const response = await upload(retracted, { bytes: pdf() });
    expect(response.statusCode).toBe(409);
    const full = await announcement(publicChannel);
    await ctx.deps.db.attachment.createMany({
      data: Array.from({ length: MAX_ATTACHMENTS_PER_ANNOUNCEMENT }, (_, i) => ({
        id: randomUUID(),
        announcementId: full,
        filename: `${i}.txt`,
        contentType: 'text/plain',
        size: 1,
        sha256: sha256(Buffer.from('x')),
        storage: 'database',
        data: Buffer.from('x'),
      })),
    });
    const tooMany = await upload(full, { bytes: pdf() });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().error.message).toMatch(/at most 20 attachments/);
  });

  it('lets only one of several concurrent uploads take the last place', async () => {
    const id = await announcement(publicChannel);
    await ctx.deps.db.attachment.createMany({
      data: Array.from({ length: MAX_ATTACHMENTS_PER_ANNOUNCEMENT - 1 }, (_, i) => ({
        id: randomUUID(),
        announcementId: id,
        filename: `${i}.txt`,
        contentType: 'text/plain',
        size: 1,
        sha256: sha256(Buffer.from('x')),
        storage: 'database',
        data: Buffer.from('x'),
      })),
    });
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) => upload(id, { bytes: pdf(`race ${i}`), filename: `race-${i}.pdf` })),
    );
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409, 409, 409]);
    expect(await ctx.deps.db.attachment.count({ where: { announcementId: id } })).toBe(
      MAX_ATTACHMENTS_PER_ANNOUNCEMENT,
    );
  });
});

describe('the OpenAPI document', () => {
  it('describes the upload body under every accepted type and the download as binary', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const upload = doc.paths['/api/v1/announcements/{id}/attachments'].post;
    expect(Object.keys(upload.requestBody.content)).toEqual(expect.arrayContaining([PDF_TYPE, 'image/png', DOCX_TYPE]));
    expect(Object.keys(upload.requestBody.content)).not.toContain('image/svg+xml');
    expect(upload.parameters).toContainEqual(
      expect.objectContaining({ in: 'query', name: 'filename', required: true }),
    );
    const download = doc.paths['/api/v1/attachments/{id}/{filename}'].get;
    expect(download.responses['200'].content[PDF_TYPE].schema).toEqual({
      type: 'string',
      contentMediaType: PDF_TYPE,
    });
    expect(download.responses['304']).toBeDefined();
  });
});

describe('who may', () => {
  it('lets only editors upload and remove: 401 without credentials, 403 for readers, 404 where they cannot read', async () => {
    const id = await announcement(publicChannel);
    expect((await upload(id, { bytes: pdf(), token: null })).statusCode).toBe(401);
    const reader = await upload(id, { bytes: pdf(), token: readerToken });
    expect(reader.statusCode).toBe(403);
    expect(reader.json().error.code).toBe('forbidden');
    const restricted = await announcement(restrictedChannel);
    const hidden = await upload(restricted, { bytes: pdf(), token: readerToken });
    const unknown = await upload(randomUUID(), { bytes: pdf(), token: readerToken });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual(unknown.json().error);

    const view = (await upload(restricted, { bytes: pdf() })).json();
    const remove = (attachmentId: string, token?: string) =>
      app.inject({ method: 'DELETE', url: `/api/v1/attachments/${attachmentId}`, headers: bearer(token) });
    expect((await remove(view.id)).statusCode).toBe(401);
    const hiddenRemove = await remove(view.id, readerToken);
    const unknownRemove = await remove(randomUUID(), readerToken);
    expect(hiddenRemove.statusCode).toBe(404);
    expect(hiddenRemove.json().error).toEqual(unknownRemove.json().error);
    const publicView = (await upload(id, { bytes: pdf() })).json();
    expect((await remove(publicView.id, readerToken)).statusCode).toBe(403);
    expect((await remove(publicView.id, publisherToken)).statusCode).toBe(204);
    expect((await remove(publicView.id, publisherToken)).statusCode).toBe(404);
  });

  it('takes uploads in a browser session only with its CSRF token (a cross-site text/plain form cannot attach)', async () => {
    const id = await announcement(publicChannel);
    const started = await startSession(ctx.deps.db, { userId: publisherId }, ctx.config.session);
    const { csrfSecret } = await ctx.deps.db.session.findUniqueOrThrow({ where: { id: started.sessionId } });
    const cookie = `${SESSION_COOKIE}=${started.secret}`;
    const send = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/announcements/${id}/attachments?filename=notat.txt`,
        headers: { cookie, 'content-type': 'text/plain', ...headers },
        payload: 'Fra et skjema på en annen side',
      });
    const forged = await send({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('csrf_failed');
    const own = await send({
      'x-csrf-token': csrfTokenFor(csrfSecret),
      origin: new URL(PUBLIC_URL).origin,
      'sec-fetch-site': 'same-origin',
    });
    expect(own.statusCode).toBe(201);
    expect(await ctx.deps.db.attachment.count({ where: { announcementId: id } })).toBe(1);
  });

  it('serves a download only to those who may read the announcement, answering others as for an unknown id', async () => {
    const unknownAnswer = async (token?: string) =>
      (
        await app.inject({ method: 'GET', url: `/api/v1/attachments/${randomUUID()}/x.pdf`, headers: bearer(token) })
      ).json().error;
    const cases: { what: string; id: string; allowed: (string | undefined)[]; denied: (string | undefined)[] }[] = [
      {
        what: 'internal channel',
        id: await announcement(internalChannel),
        allowed: [readerToken, ntnuToken, publisherToken],
        denied: [undefined, outsiderToken],
      },
      {
        what: 'restricted channel',
        id: await announcement(restrictedChannel),
        allowed: [publisherToken],
        denied: [undefined, readerToken, outsiderToken],
      },
      {
        what: 'audience UiB only',
        id: await announcement(publicChannel, { audience: [uibOrganisationId] }),
        allowed: [readerToken, publisherToken],
        denied: [undefined, ntnuToken, outsiderToken],
      },
      {
        what: 'draft',
        id: await announcement(publicChannel, { status: 'draft' }),
        allowed: [publisherToken],
        denied: [undefined, readerToken],
      },
    ];
    for (const { what, id, allowed, denied } of cases) {
      const view = (await upload(id, { bytes: pdf(what) })).json();
      for (const token of allowed) {
        expect((await download(view.url, token)).statusCode, `${what}: allowed`).toBe(200);
        const list = await app.inject({
          method: 'GET',
          url: `/api/v1/announcements/${id}/attachments`,
          headers: bearer(token),
        });
        expect(list.json().items, `${what}: listed`).toEqual([view]);
      }
      for (const token of denied) {
        const response = await download(view.url, token);
        expect(response.statusCode, `${what}: denied`).toBe(404);
        expect(response.json().error, `${what}: denied like an unknown id`).toEqual(await unknownAnswer(token));
        const head = await app.inject({ method: 'HEAD', url: pathOf(view.url), headers: bearer(token) });
        expect(head.statusCode, `${what}: HEAD denied`).toBe(404);
        const list = await app.inject({
          method: 'GET',
          url: `/api/v1/announcements/${id}/attachments`,
          headers: bearer(token),
        });
        expect(list.statusCode, `${what}: list denied`).toBe(404);
      }
    }
    // Retracting takes the attachments away from everyone, editors included.
    const retracted = await announcement(publicChannel);
    const view = (await upload(retracted, { bytes: pdf('retracted') })).json();
    await ctx.deps.db.announcement.update({
      where: { id: retracted },
      data: { status: 'retracted', retractedAt: new Date() },
    });
    expect((await download(view.url, publisherToken)).statusCode).toBe(404);
    // …and editors may still clean them up.
    const removed = await app.inject({
      method: 'DELETE',
      url: `/api/v1/attachments/${view.id}`,
      headers: bearer(publisherToken),
    });
    expect(removed.statusCode).toBe(204);
  });
});
