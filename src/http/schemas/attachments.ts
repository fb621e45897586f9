/** Schemas of the attachment routes (src/http/routes/attachments.ts). The Attachment itself is the announcement's. */
import { Type } from 'typebox';
import { ATTACHMENT_MEDIA_TYPE_LIST } from '../../content/file-types.js';
import { Attachment } from './announcements.js';
import { Text, Uuid } from './common.js';

export { Attachment };

export const AttachmentParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const AttachmentFileParams = Type.Object(
  {
    id: Uuid,
    filename: Text.line({
      maxLength: 1024,
      description: 'Any name: the file is found by its id, and Content-Disposition names it',
    }),
  },
  { additionalProperties: false },
);

export const UploadQuery = Type.Object(
  {
    // A name, shown to readers: no bidi overrides, the classic way to make `gnp.exe` look like `exe.png`.
    filename: Text.title({
      minLength: 1,
      maxLength: 1024,
      description:
        "The file's name. Path parts, control characters and leading dots are removed, and it is cut to 200 " +
        'characters; an extension that does not fit the type gets the usual one added (`plan` → `plan.pdf`)',
      examples: ['Tidsplan ØL.pdf'],
    }),
  },
  { additionalProperties: false },
);

/**
 * The request body of an upload: the file's bytes as they are (no multipart), with its media type as Content-Type.
 * Validation accepts any bytes; the route's parser and src/content/file-types.ts do the checking.
 */
export const UploadBody = Type.Unknown({ description: "The file's bytes, with its media type as Content-Type" });

/** Media types an upload may declare (the OpenAPI document lists the request body under each). */
export const UPLOAD_MEDIA_TYPES = ATTACHMENT_MEDIA_TYPE_LIST;

export const AttachmentList = Type.Object(
  { items: Type.Array(Attachment, { description: 'Oldest first' }) },
  { additionalProperties: false },
);

/** A download: binary, of the stored media type. */
export const AttachmentDownloadResponse = {
  description:
    'The file. Content-Type is the checked media type (text with charset=utf-8); Content-Disposition is ' +
    '`attachment` (`inline` for images) with an ASCII `filename` and the exact UTF-8 `filename*`; ETag is the ' +
    "SHA-256 of the bytes in quotes; X-Content-Type-Options: nosniff; Content-Security-Policy: default-src 'none'; " +
    'sandbox. Cache-Control: `public, max-age=300` when anyone may read it, else `private, no-cache`',
  content: Object.fromEntries(
    ATTACHMENT_MEDIA_TYPE_LIST.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]),
  ),
};
