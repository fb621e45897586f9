/**
 * Attachments of announcements: uploading (editors of the channel), listing and downloading (whoever may read the
 * announcement), and removing (editors). What a file may be is decided by src/content/file-types.ts from its bytes.
 *
 * Storage: the bytes live in the Attachment row (`storage = 'database'`), or, with ATTACHMENT_DIR set, in a file
 * named by the attachment's id in that directory (`storage = 'directory'`). Each row says where its bytes are, so
 * changing the setting later keeps older attachments readable. A file is written to a temporary name, flushed to
 * disk and renamed into place before its row is committed, so a committed row never points at a missing or partial
 * file; if the row cannot be written, the file is removed again. Removing an attachment deletes the row first and the
 * file after the commit: a crash in between leaves an unreferenced file, never a row without its bytes.
 *
 * Adding or removing one bumps the announcement's `updatedAt`, so feeds and other caches keyed on it see the change.
 *
 * Rows can also go without this module: deleting a channel cascades to its announcements and their attachments. The
 * files they leave in ATTACHMENT_DIR are found and removed by removeOrphanedFiles, which the API runs on start.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import {
  checkAttachmentType,
  dispositionFor,
  isAttachmentMediaType,
  sanitiseFilename,
  servedContentType,
  storedFilename,
} from '../content/file-types.js';
import type { AnnouncementRecord } from '../db/announcement-records.js';
import type { Db } from '../db/prisma.js';
import { canSeeAnnouncement } from '../domain/announcement.js';
import { AppError, isAppError, notFound } from '../domain/errors.js';
import { type Actor, ANONYMOUS } from '../domain/types.js';
import { loadAnnouncementToManage, loadAnnouncementToRead } from './announcement-access.js';
import { recordAudit } from './audit.js';
import { type AttachmentView, attachmentUrl } from './views.js';

/** The most attachments one announcement may carry. */
export const MAX_ATTACHMENTS_PER_ANNOUNCEMENT = 20;

export type AttachmentSettings = Config['attachments'];

export interface AttachmentDeps {
  db: Db;
  publicUrl: string;
  attachments: AttachmentSettings;
}

export function attachmentView(
  publicUrl: string,
  row: { id: string; filename: string; contentType: string; size: number },
): AttachmentView {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.contentType,
    size: row.size,
    url: attachmentUrl(publicUrl, row),
  };
}

function humanBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `An attachment may be at most ${humanBytes(maxBytes)}`, { maxBytes });
}

/**
 * Makes ATTACHMENT_DIR (when set) and checks that this process may write there, so a wrong setting stops the start
 * with a clear message instead of failing the first upload.
 */
export async function prepareAttachmentStorage(settings: AttachmentSettings): Promise<void> {
  if (!settings.dir) return;
  try {
    await mkdir(settings.dir, { recursive: true, mode: 0o750 });
    await access(settings.dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(`ATTACHMENT_DIR ${settings.dir} is not a directory this process can write to`, { cause: error });
  }
}

export interface UploadInput {
  /** The `filename` query parameter, as sent. */
  filename: string;
  /** The request's Content-Type header. */
  contentType: string | undefined;
  bytes: Buffer;
}

/**
 * Adds a file to an announcement that is not retracted.
 * @throws AppError not_found / forbidden as loadAnnouncementToManage; validation_failed for an empty file or a name
 *   with nothing left after sanitising; payload_too_large; unsupported_media_type when the type is not accepted or
 *   the bytes are not what the type says; conflict for a retracted announcement or one that has the most attachments.
 */
export async function addAttachment(
  deps: AttachmentDeps,
  actor: Actor,
  announcementId: string,
  input: UploadInput,
  requestId?: string,
): Promise<AttachmentView> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'attach files to');
  if (record.status === 'retracted') throw new AppError('conflict', 'A retracted announcement takes no attachments');
  if (record.attachments.length >= MAX_ATTACHMENTS_PER_ANNOUNCEMENT) throw tooMany();
  const name = sanitiseFilename(input.filename);
  if (name === null) {
    throw new AppError('validation_failed', 'filename must name the file', [
      { field: 'query.filename', message: 'has no characters left once path, control characters and dots are removed' },
    ]);
  }
  if (input.bytes.length === 0) {
    throw new AppError('validation_failed', 'The file is empty', [{ field: 'body', message: 'must not be empty' }]);
  }
  // The route's body limit stops larger bodies first; this keeps the service safe for any caller.
  if (input.bytes.length > deps.attachments.maxBytes) throw tooLarge(deps.attachments.maxBytes);
  const checked = checkAttachmentType(input.contentType, input.bytes);
  if (!checked.ok) {
    const details = { declared: checked.declared ?? null, detected: checked.detected };
    throw checked.reason === 'not_allowed'
      ? unsupportedType(checked.declared, details)
      : new AppError(
          'unsupported_media_type',
          `The file is ${checked.detected}, not ${checked.declared}: send it with the Content-Type of what it is`,
          details,
        );
  }

  const row = {
    id: randomUUID(),
    announcementId: record.id,
    filename: storedFilename(name, checked.mediaType),
    contentType: checked.mediaType,
    size: input.bytes.length,
    sha256: createHash('sha256').update(input.bytes).digest('hex'),
    uploaderId: actor.kind === 'user' ? actor.userId : null,
  };
  const dir = deps.attachments.dir;
  if (dir) await writeFileDurably(dir, row.id, input.bytes);
  try {
    await deps.db.$transaction(async (tx) => {
      // Also locks the announcement for the rest of the transaction, so concurrent uploads count one at a time and a
      // retraction cannot slip in between the check and the insert.
      const { count } = await tx.announcement.updateMany({
        where: { id: record.id, status: { not: 'retracted' } },
        data: { updatedAt: new Date() },
      });
      if (count === 0) throw new AppError('conflict', 'A retracted announcement takes no attachments');
      if ((await tx.attachment.count({ where: { announcementId: record.id } })) >= MAX_ATTACHMENTS_PER_ANNOUNCEMENT) {
        throw tooMany();
      }
      await tx.attachment.create({
        // A request body's Buffer is never backed by a SharedArrayBuffer; Prisma's type wants that said.
        data: dir
          ? { ...row, storage: 'directory' }
          : { ...row, storage: 'database', data: input.bytes as Uint8Array<ArrayBuffer> },
      });
      await recordAudit(tx, {
        actor,
        action: 'announcement.attach',
        outcome: 'success',
        targetType: 'announcement',
        targetId: record.id,
        ...(requestId ? { requestId } : {}),
        details: {
          channel: record.channelSlug,
          attachment: row.id,
          filename: row.filename,
          contentType: row.contentType,
          size: row.size,
          sha256: row.sha256,
        },
      });
    });
  } catch (error) {
    if (dir) await rm(join(dir, row.id), { force: true });
    throw error;
  }
  return attachmentView(deps.publicUrl, row);
}

function tooMany(): AppError {
  return new AppError(
    'conflict',
    `An announcement can have at most ${MAX_ATTACHMENTS_PER_ANNOUNCEMENT} attachments; remove one first`,
  );
}

/** The 415 for a media type that is not accepted at all (or none). */
export function unsupportedType(declared: string | undefined, details?: Record<string, unknown>): AppError {
  return new AppError(
    'unsupported_media_type',
    declared === undefined
      ? "Send the file's media type as Content-Type (application/pdf, image/png, …)"
      : `${declared} files are not accepted: attachments may be PDF, PNG, JPEG, GIF or WebP images, Office or ` +
          'OpenDocument documents, or UTF-8 text or CSV',
    details ?? { declared: declared ?? null },
  );
}

/** The attachments of an announcement the actor may read, oldest first. */
export async function listAttachments(
  deps: Pick<AttachmentDeps, 'db' | 'publicUrl'>,
  actor: Actor,
  announcementId: string,
): Promise<{ items: AttachmentView[] }> {
  const { record } = await loadAnnouncementToRead(deps.db, actor, announcementId);
  return { items: record.attachments.map((attachment) => attachmentView(deps.publicUrl, attachment)) };
}

/** One attachment found for download, with its bytes still to be read. */
export interface AttachmentDownload {
  id: string;
  filename: string;
  /** The checked media type (as stored). */
  mediaType: string;
  /** What to send as Content-Type (text with its charset). */
  contentType: string;
  disposition: 'inline' | 'attachment';
  size: number;
  sha256: string;
  createdAt: Date;
  /** Whether anyone, signed in or not, may read it: shared caches may keep it then. */
  public: boolean;
  /** The bytes: a Buffer from PostgreSQL or a stream of the file (opened before anything is sent). */
  open(): Promise<Buffer | Readable>;
}

interface AttachmentRow {
  id: string;
  announcementId: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  storage: string;
  createdAt: Date;
}

const ROW_SELECT = {
  id: true,
  announcementId: true,
  filename: true,
  contentType: true,
  size: true,
  sha256: true,
  storage: true,
  createdAt: true,
} as const;

/**
 * Runs an announcement loader for an attachment: an attachment whose announcement the actor may not see answers
 * exactly like an attachment id that does not exist (the loaders' own 404 names the announcement).
 */
async function asAttachment<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isAppError(error) && error.code === 'not_found') throw notFound('Attachment');
    throw error;
  }
}

/**
 * An attachment for someone who may read its announcement.
 * @throws AppError not_found for an unknown id, and for one the actor may not read (identical answers).
 */
export async function findAttachmentToRead(
  deps: Pick<AttachmentDeps, 'db' | 'attachments'>,
  actor: Actor,
  attachmentId: string,
): Promise<AttachmentDownload> {
  const row: AttachmentRow | null = await deps.db.attachment.findUnique({
    where: { id: attachmentId },
    select: ROW_SELECT,
  });
  if (!row) throw notFound('Attachment');
  const { record, channel } = await asAttachment(() => loadAnnouncementToRead(deps.db, actor, row.announcementId));
  const mediaType = row.contentType;
  return {
    id: row.id,
    filename: row.filename,
    mediaType,
    contentType: servedContentType(mediaType),
    // A stored type the checks no longer accept downloads rather than showing in the browser.
    disposition: isAttachmentMediaType(mediaType) ? dispositionFor(mediaType) : 'attachment',
    size: row.size,
    sha256: row.sha256,
    createdAt: row.createdAt,
    public: canSeeAnnouncement(ANONYMOUS, { visibility: channel.visibility, role: null }, record),
    open: () => openBytes(deps, row),
  };
}

async function openBytes(deps: Pick<AttachmentDeps, 'db' | 'attachments'>, row: AttachmentRow) {
  if (row.storage === 'database') {
    const found = await deps.db.attachment.findUnique({ where: { id: row.id }, select: { data: true } });
    if (!found?.data) throw notFound('Attachment');
    return Buffer.from(found.data.buffer, found.data.byteOffset, found.data.byteLength);
  }
  const dir = deps.attachments.dir;
  if (!dir) throw new Error(`Attachment ${row.id} is stored in a directory, but ATTACHMENT_DIR is not set`);
  // Opened here, not lazily by the stream, so a missing file fails before any header is sent.
  const handle = await open(join(dir, row.id), 'r');
  // The stream closes the handle when it ends or is destroyed (a client that goes away).
  return handle.createReadStream();
}

/**
 * Removes an attachment (and its file): publishers and owners of the channel, or an admin; also from a retracted
 * announcement.
 * @throws AppError not_found for an unknown id or one whose channel the actor may not read; forbidden when the actor
 *   may read the channel but not publish there.
 */
export async function removeAttachment(
  deps: Pick<AttachmentDeps, 'db' | 'attachments'>,
  actor: Actor,
  attachmentId: string,
  requestId?: string,
): Promise<{ fileLeftBehind: string | null }> {
  const row: AttachmentRow | null = await deps.db.attachment.findUnique({
    where: { id: attachmentId },
    select: ROW_SELECT,
  });
  if (!row) throw notFound('Attachment');
  const record: AnnouncementRecord = await asAttachment(() =>
    loadAnnouncementToManage(deps.db, actor, row.announcementId, 'remove attachments from'),
  );
  await deps.db.$transaction(async (tx) => {
    const { count } = await tx.attachment.deleteMany({ where: { id: row.id } });
    // Removed by a concurrent request: answer as for an id that does not exist.
    if (count === 0) throw notFound('Attachment');
    await tx.announcement.update({ where: { id: record.id }, data: { updatedAt: new Date() } });
    await recordAudit(tx, {
      actor,
      action: 'announcement.detach',
      outcome: 'success',
      targetType: 'announcement',
      targetId: record.id,
      ...(requestId ? { requestId } : {}),
      details: { channel: record.channelSlug, attachment: row.id, filename: row.filename },
    });
  });
  if (row.storage !== 'directory' || !deps.attachments.dir) return { fileLeftBehind: null };
  const path = join(deps.attachments.dir, row.id);
  try {
    await rm(path, { force: true });
    return { fileLeftBehind: null };
  } catch {
    // The row is gone, so nobody can reach the file any more; the caller logs it for an operator to clean up.
    return { fileLeftBehind: path };
  }
}

/**
 * Writes `bytes` to `dir/name` so the name never shows a partial file: to a temporary file in the same directory
 * (same file system, so the rename is atomic), flushed to disk, then renamed, and the directory entry flushed too.
 */
export async function writeFileDurably(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o640);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(dir, name));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Flushes a directory's entries (the rename), where the platform allows opening a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not supported everywhere (Windows); the file itself is already flushed.
  } finally {
    await handle?.close();
  }
}

const UUID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TEMPORARY_NAME = /^\.[0-9a-f-]{36}\.[0-9a-f]{12}\.tmp$/;

/**
 * How old a file without a row must be before it is removed: an upload renames its file into place a moment before
 * its row commits, and another process must not take that moment for an orphan.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/**
 * Removes files in `dir` that no attachment row refers to (their rows went with a deleted channel, or a process died
 * between writing and committing) and temporary files left by interrupted uploads, once older than `graceMs`. Files
 * of other names are left alone. Returns the names removed.
 */
export async function removeOrphanedFiles(
  db: Pick<Db, 'attachment'>,
  dir: string,
  options: { now?: Date; graceMs?: number } = {},
): Promise<string[]> {
  const cutoff = (options.now ?? new Date()).getTime() - (options.graceMs ?? ORPHAN_GRACE_MS);
  const names = await readdir(dir);
  const orphans = names.filter((name) => TEMPORARY_NAME.test(name));
  const ids = names.filter((name) => UUID_NAME.test(name));
  for (let start = 0; start < ids.length; start += 1000) {
    const batch = ids.slice(start, start + 1000);
    const rows = await db.attachment.findMany({
      where: { id: { in: batch }, storage: 'directory' },
      select: { id: true },
    });
    const known = new Set(rows.map((row) => row.id));
    orphans.push(...batch.filter((id) => !known.has(id)));
  }
  const removed: string[] = [];
  for (const name of orphans) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || info.mtimeMs > cutoff) continue;
    await rm(path, { force: true });
    removed.push(name);
  }
  return removed;
}
