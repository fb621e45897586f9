/**
 * HTML forms that carry files (multipart/form-data), for the web pages that upload attachments without JavaScript.
 * `@fastify/multipart` is registered only in the scope of those pages (acceptMultipartForms); API v1 takes files as
 * raw bodies (src/http/routes/attachments.ts) and never parses multipart.
 *
 * CSRF: the CSRF plugin's hook runs before a multipart body is read, so routes that take one declare
 * `config.csrf: 'multipart'` and read it with readMultipartForm, which applies the plugin's own check
 * (csrfRefusal) as soon as the `_csrf` field has arrived — the first field of every form (CsrfField comes first) —
 * and refuses a file that comes before it, so nothing a forged request sends is buffered. Every other body of such a
 * route (an urlencoded form) is checked by the hook as usual.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { FormBody } from './form-body.js';
import { CSRF_FORM_FIELD, csrfRefusal, isMultipartRequest } from './plugins/csrf.js';

export interface UploadedFile {
  /** The input's name. */
  field: string;
  /** The name the browser sent (not yet sanitised). */
  filename: string;
  /** The media type the browser declared (by the file's extension, usually). */
  contentType: string;
  bytes: Buffer;
  /** Longer than the limit: `bytes` holds only its start. */
  tooLarge: boolean;
}

export interface MultipartForm {
  fields: FormBody;
  files: UploadedFile[];
}

export interface MultipartLimits {
  /** Largest file (ATTACHMENT_MAX_BYTES). */
  maxFileBytes: number;
  /** Most files in one form. */
  maxFiles: number;
}

/** A text field of our forms holds at most 20,000 characters, up to 4 bytes each in UTF-8. */
const MAX_FIELD_BYTES = 100 * 1024;
const MAX_FIELDS = 300;

/** Registers @fastify/multipart in this scope, with the limits of our forms. */
export async function acceptMultipartForms(app: FastifyInstance, limits: MultipartLimits): Promise<void> {
  await app.register(multipart, {
    // An oversized file is reported on its field (`tooLarge`) instead of failing the whole form.
    throwFileSizeLimit: false,
    limits: {
      fileSize: limits.maxFileBytes,
      files: limits.maxFiles,
      fieldSize: MAX_FIELD_BYTES,
      fields: MAX_FIELDS,
      parts: MAX_FIELDS + limits.maxFiles,
      headerPairs: 100,
    },
  });
}

function addField(fields: FormBody, name: string, value: string): void {
  const before = fields[name];
  if (before === undefined) fields[name] = value;
  else if (Array.isArray(before)) before.push(value);
  else fields[name] = [before, value];
}

/** @fastify/multipart's limit errors, as our errors. */
function limitError(error: unknown, limits: MultipartLimits): AppError | null {
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_FILES_LIMIT') {
    return new AppError('validation_failed', `A form may carry at most ${limits.maxFiles} files`, { field: 'files' });
  }
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new AppError('payload_too_large', 'The form has too many fields');
  }
  if (code === 'FST_PROTO_VIOLATION' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new AppError('validation_failed', 'The form could not be read');
  }
  return null;
}

/**
 * The form's fields (as src/http/form-body.ts gives them) and files, from a multipart body read as it streams, or
 * from an urlencoded body already parsed. A file input left empty (the browser sends a part without a name or bytes)
 * is no file.
 * @throws AppError csrf_failed for a signed-in request whose `_csrf` field is missing, wrong or comes after a file.
 */
export async function readMultipartForm(
  request: FastifyRequest,
  allowedOrigins: ReadonlySet<string>,
  limits: MultipartLimits,
): Promise<MultipartForm> {
  if (!isMultipartRequest(request)) {
    const body = request.body;
    return { fields: body && typeof body === 'object' ? { ...(body as FormBody) } : {}, files: [] };
  }
  const fields: FormBody = {};
  const files: UploadedFile[] = [];
  let checked = false;
  const check = (token: string | undefined) => {
    const refusal = csrfRefusal(request, token, allowedOrigins);
    if (refusal) throw refusal;
    checked = true;
  };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        const value = typeof part.value === 'string' ? part.value : String(part.value ?? '');
        if (part.fieldname === CSRF_FORM_FIELD) {
          if (!checked) check(value);
          continue;
        }
        addField(fields, part.fieldname, value);
        continue;
      }
      // A file before the token: refuse before reading a byte of it.
      if (!checked) check(undefined);
      const bytes = await part.toBuffer();
      if (!part.filename && bytes.length === 0) continue;
      files.push({
        field: part.fieldname,
        filename: part.filename,
        contentType: part.mimetype,
        bytes,
        tooLarge: part.file.truncated,
      });
    }
  } catch (error) {
    throw limitError(error, limits) ?? error;
  }
  if (!checked) check(undefined);
  return { fields, files };
}
