/**
 * Shared TypeBox schemas of the HTTP API. They validate requests (Ajv, unknown fields rejected), shape responses
 * (fast-json-stringify emits only declared fields) and feed the OpenAPI document, so the three cannot drift apart.
 */
import { type TSchema, type TStringOptions, Type } from 'typebox';
import { MAX_CURSOR_LENGTH } from '../../domain/cursor.js';
import { ERROR_STATUS, type ErrorCode } from '../../domain/errors.js';
import type { TextKind } from '../../domain/text.js';
import { TEXT_KEYWORD } from '../validation.js';

function textOf(kind: TextKind) {
  return (options: TStringOptions = {}) => Type.String({ ...options, [TEXT_KEYWORD]: kind });
}

/**
 * Every string a request carries is one of these, so the input hygiene rules of src/domain/text.ts apply to it
 * (src/http/validation.ts: the app does not start with a request string that has none). In short:
 * - `identifier` — slugs, codes, keys, cursors, tokens, URLs: no control, line-break or invisible characters;
 * - `title` — titles and names: one line, no bidi override/isolate controls; NFC; blank counts as empty;
 * - `line` — other single-line text (summaries, queries, filenames): one line; NFC; blank counts as empty;
 * - `multiline` — bodies, descriptions, notes: tab, LF, CR allowed; NFC; blank counts as empty;
 * - `email` — e-mail addresses, checked by parseAddress (src/services/email-subscriptions.ts) with a reason each.
 * A required text (minLength ≥ 1) that holds only white space and invisible characters is refused as blank.
 */
export const Text = {
  identifier: textOf('identifier'),
  title: textOf('title'),
  line: textOf('line'),
  multiline: textOf('multiline'),
  email: textOf('email'),
};

export const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';

export const Slug = Text.identifier({
  pattern: SLUG_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: 'URL name: lower-case letters and digits in groups joined by single hyphens',
  examples: ['bott-okonomi'],
});

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });

export const DateTime = Type.String({ format: 'date-time' });

/**
 * The latest time sent as a number (milliseconds since the epoch) that can be stored: the end of the year 9999. A Date
 * holds more (to the year 275760), but later years are written `+046500-…`, which the database driver refuses.
 */
export const MAX_DATE_MILLISECONDS = 253_402_300_799_999;

/** The `$id` the error body is registered under (app.addSchema), so every route refers to one definition. */
export const ERROR_SCHEMA_ID = 'Error';

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum(Object.keys(ERROR_STATUS) as ErrorCode[], { description: 'Stable, machine-readable code' }),
        message: Type.String({ description: 'For people; may change' }),
        details: Type.Optional(
          Type.Unknown({ description: 'Depends on the code; for validation_failed a list of problems' }),
        ),
      },
      { additionalProperties: false },
    ),
    requestId: Type.String({ description: 'Quote it when reporting a problem; also in the x-request-id header' }),
  },
  { $id: ERROR_SCHEMA_ID, title: 'Error', additionalProperties: false },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid (validation_failed, invalid_cursor)',
  401: 'No valid bearer token (unauthenticated)',
  403: 'Authenticated, but not allowed (forbidden), or a signed-in browser request without its CSRF token (csrf_failed)',
  404: 'Not found, or not visible to the caller (not_found)',
  409: 'Conflicts with existing data (conflict)',
  413: 'Request body too large (payload_too_large)',
  415: 'Request body of a type the operation does not take: JSON routes take application/json (unsupported_media_type)',
  422: 'The Idempotency-Key was already used for a different request (idempotency_key_reused)',
  429: 'Too many requests from this client or user: try again after Retry-After seconds (rate_limited)',
  500: 'Unexpected error (internal_error)',
  503: 'A backing service is unavailable; retry later (service_unavailable)',
};

/**
 * Every route can answer these: a malformed request (400: control characters in a header, a query string or body
 * that is not UTF-8, a body the route does not take; src/http/plugins/input-hygiene.ts), a bad token (401), a
 * failure (500), a backing service down (503).
 */
const ALWAYS = [400, 401, 500, 503] as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

function errorResponseMap(statuses: readonly ErrorStatus[]): Record<number, TSchema> {
  const all = [...new Set([...statuses, ...ALWAYS])].sort();
  return Object.fromEntries(
    all.map((status) => [status, Type.Ref(ERROR_SCHEMA_ID, { description: ERROR_DESCRIPTIONS[status] })]),
  );
}

/**
 * Error responses for a route's `response` map: the given statuses plus the ones any route can give, and 429, since
 * every route but the probes is rate-limited (src/http/plugins/rate-limit.ts).
 */
export function errorResponses(...statuses: ErrorStatus[]): Record<number, TSchema> {
  return errorResponseMap([...statuses, 429]);
}

/** The probes' error responses (src/http/plugins/health.ts): those any route can give; probes are never rate-limited. */
export function probeErrorResponses(): Record<number, TSchema> {
  return errorResponseMap([]);
}

/** Bodies are JSON: a body-taking route can also answer 400 (malformed JSON), 413 and 415. */
export const BODY_ERRORS = [400, 413, 415] as const;

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `limit` of a listing (default and maximum shared by every list endpoint unless it declares its own). */
export const PageLimit = Type.Integer({
  minimum: 1,
  maximum: MAX_PAGE_SIZE,
  default: DEFAULT_PAGE_SIZE,
  description: `Items per page (1–${MAX_PAGE_SIZE})`,
});

/** `cursor` of a keyset-paginated listing: opaque, taken from the previous page. */
export const PageCursor = Text.identifier({
  minLength: 1,
  maxLength: MAX_CURSOR_LENGTH,
  description: 'nextCursor of the previous page; omit for the first page',
});

export const PageQuery = Type.Object(
  { limit: PageLimit, cursor: Type.Optional(PageCursor) },
  { additionalProperties: false },
);

/** A page of a keyset-paginated listing. `nextCursor` is null on the last page. */
export function Page<T extends TSchema>(item: T, description: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as `cursor` to get the next page; null when there is none',
      }),
    },
    { additionalProperties: false, description },
  );
}

/** Security requirements for the OpenAPI document: either a bearer token is required, or it is optional. */
type SecurityRequirements = { [scheme: string]: string[] }[];
export const BEARER_REQUIRED: SecurityRequirements = [{ bearerAuth: [] }];
/** `{}` is OpenAPI's "or no authentication at all". */
export const BEARER_OPTIONAL: SecurityRequirements = [{ bearerAuth: [] }, {}];
/** Operations that take no credentials at all (probes, e-mail links whose signed token is the authority). */
export const NO_CREDENTIALS: SecurityRequirements = [];
