/**
 * The one error handler: every error leaves as `{ error: { code, message, details? }, requestId }` with the status
 * from ERROR_STATUS. Known failures keep their message; anything unexpected becomes a generic 500 (logged with the
 * request id, never shown to the client), and an unreachable PostgreSQL or Redis a 503 so clients retry.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../../db/prisma-errors.js';
import { ERROR_STATUS, type ErrorCode, isAppError } from '../../domain/errors.js';
import { SLUG_PATTERN } from '../schemas/common.js';
import type { ErrorPages } from './web.js';

/** One problem in a request that failed validation: where (`body.title`, `query.limit`) and what. */
export interface ValidationProblem {
  field: string;
  message: string;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
  requestId: string;
}

interface Classified {
  code: ErrorCode;
  message: string;
  details?: unknown;
  /** Unexpected: log it with its stack. */
  unexpected?: boolean;
}

/** Ajv's error objects, as Fastify attaches them to a validation error. */
interface AjvProblem {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const CONTEXT_NAMES: Record<string, string> = {
  querystring: 'query',
  body: 'body',
  params: 'params',
  headers: 'headers',
};

/** Ajv says `must match pattern "…"`; for our patterns, say what they mean. */
const PATTERN_MESSAGES: Record<string, string> = {
  '\\S': 'must not be blank',
  [SLUG_PATTERN]: 'must be lower-case letters and digits in groups joined by single hyphens (a slug)',
};

/** Turns Ajv's errors into one readable problem per field and rule. */
export function validationProblems(errors: readonly AjvProblem[], context: string | undefined): ValidationProblem[] {
  const root = CONTEXT_NAMES[context ?? ''] ?? context ?? 'request';
  const problems = new Map<string, ValidationProblem>();
  for (const error of errors) {
    const path = [root, ...error.instancePath.split('/').slice(1).map(unescapePointer)];
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      path.push(String(error.params.additionalProperty));
      message = 'is not an accepted field';
    } else if (error.keyword === 'required') {
      path.push(String(error.params.missingProperty));
      message = 'is required';
    } else if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) {
      message = `must be one of: ${error.params.allowedValues.join(', ')}`;
    } else if (error.keyword === 'pattern') {
      message = PATTERN_MESSAGES[String(error.params.pattern)] ?? message;
    }
    const field = path.join('.');
    problems.set(`${field}\n${message}`, { field, message });
  }
  return [...problems.values()];
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

/**
 * PostgreSQL or Redis cannot be reached. ioredis with `enableOfflineQueue: false` (our producer connection) rejects
 * at once with "Stream isn't writeable…"; after reconnect attempts it throws MaxRetriesPerRequestError; socket errors
 * carry an errno code, possibly as the `cause` of a wrapper (Prisma's driver adapter, BullMQ).
 */
export function isBackingServiceUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (isDatabaseUnavailable(current)) return true;
    const e = current as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
    if (e.name === 'MaxRetriesPerRequestError') return true;
    if (typeof e.message === 'string' && /enableOfflineQueue options is false|Connection is closed/.test(e.message)) {
      return true;
    }
    if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
    current = e.cause;
  }
  return false;
}

const CODE_BY_STATUS = new Map<number, ErrorCode>(
  Object.entries(ERROR_STATUS).map(([code, status]) => [status, code as ErrorCode]),
);

/** Decides what the client is told about an error. Pure, so the rules can be tested without a server. */
export function classifyError(error: unknown): Classified {
  if (isAppError(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvProblem[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    const details = validationProblems(fastifyError.validation, fastifyError.validationContext);
    const summary = details.map((p) => `${p.field} ${p.message}`).join('; ');
    return { code: 'validation_failed', message: `The request is invalid: ${summary}`, details };
  }
  if (isBackingServiceUnavailable(error)) {
    return {
      code: 'service_unavailable',
      message: 'A service this request needs is unavailable; try again shortly',
      unexpected: true,
    };
  }
  const status = fastifyError.statusCode;
  // Fastify's own client errors (body too large, wrong content type, malformed JSON…) have safe, useful messages.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return { code: 'payload_too_large', message: 'The request body is too large' };
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return { code: 'unsupported_media_type', message: 'Send the request body as application/json' };
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return { code: 'validation_failed', message: 'The request body is not valid JSON' };
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return { code: 'validation_failed', message: 'The request body is empty but content-type is application/json' };
    }
    return { code: CODE_BY_STATUS.get(status) ?? 'validation_failed', message: fastifyError.message ?? 'Bad request' };
  }
  return { code: 'internal_error', message: 'Something went wrong on our side', unexpected: true };
}

export function errorBody(requestId: string, classified: Omit<Classified, 'unexpected'>): ErrorBody {
  return {
    error: {
      code: classified.code,
      message: classified.message,
      ...(classified.details !== undefined ? { details: classified.details } : {}),
    },
    requestId,
  };
}

/** What is logged of an unexpected error: never its message or its properties' values (see errorSummary). */
export interface ErrorSummary {
  type: string;
  /** A short machine code (`P2010`, `22021`, `ERR_…`) when the error carries one. */
  code?: string;
  /** The stack's frames (file, line), without the message line. */
  stack?: string;
  /** The same for its causes, outermost first. */
  causes?: { type: string; code?: string }[];
}

const CODE_PROPERTIES = ['code', 'originalCode', 'kind'] as const;

function shortCode(error: Record<string, unknown>): string | undefined {
  for (const name of CODE_PROPERTIES) {
    const value = error[name];
    if ((typeof value === 'string' && /^[\w.-]{1,40}$/.test(value)) || typeof value === 'number') return String(value);
  }
  return undefined;
}

function typeOf(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name || error.name || 'Error';
  return typeof error;
}

/**
 * An unexpected error as it is logged: its type, code and stack frames, and its causes' types and codes. Messages
 * are left out on purpose: a library's message can quote what the request carried (a database's "Key (email)=(…)",
 * Prisma's echo of the query arguments, the JSON parser's snippet of the body), and the request id on every line is
 * what joins the log to the request; the log filter (src/logger.ts) masks only what looks like an address or token.
 */
export function errorSummary(error: unknown): ErrorSummary {
  const record = (error && typeof error === 'object' ? error : {}) as Record<string, unknown>;
  const summary: ErrorSummary = { type: typeOf(error) };
  const code = shortCode(record);
  if (code !== undefined) summary.code = code;
  if (typeof record.stack === 'string') {
    const frames = record.stack.split('\n').filter((line) => /^\s+at /.test(line));
    if (frames.length > 0) summary.stack = frames.join('\n');
  }
  const causes: { type: string; code?: string }[] = [];
  let cause = record.cause;
  for (let depth = 0; cause && depth < 4; depth++) {
    const causeRecord = (typeof cause === 'object' ? cause : {}) as Record<string, unknown>;
    const causeCode = shortCode(causeRecord);
    causes.push({ type: typeOf(cause), ...(causeCode !== undefined ? { code: causeCode } : {}) });
    cause = causeRecord.cause;
  }
  if (causes.length > 0) summary.causes = causes;
  return summary;
}

export interface ErrorsPluginOptions {
  /** The web app's HTML error pages (src/http/plugins/web.ts), for people's pages and browsers' unknown addresses. */
  pages?: ErrorPages;
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  classified: Classified,
  pages: ErrorPages | undefined,
  routeFound: boolean,
) {
  const status = ERROR_STATUS[classified.code];
  if (pages?.wants(request, routeFound)) {
    return pages.send(request, reply, classified.code, classified.message).catch((error: unknown) => {
      // An error page that cannot be rendered must not hide the original failure: fall back to the JSON body.
      request.log.error({ err: error }, 'error page could not be rendered');
      return reply.code(status).type('application/json; charset=utf-8').send(errorBody(request.id, classified));
    });
  }
  // RFC 6750: a 401 names the scheme the client should use. The auth hook may already have set a precise one.
  if (status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).send(errorBody(request.id, classified));
}

async function errorsPlugin(app: FastifyInstance, options: ErrorsPluginOptions): Promise<void> {
  const { pages } = options;
  app.setErrorHandler((error, request, reply) => {
    const classified = classifyError(error);
    if (classified.code === 'service_unavailable') {
      request.log.warn({ err: error }, 'backing service unavailable');
    } else if (classified.unexpected || ERROR_STATUS[classified.code] >= 500) {
      // With the request id (every line of the request's logger has it) and the route pattern, never the URL.
      request.log.error(
        { error: errorSummary(error), method: request.method, route: request.routeOptions.url ?? null },
        'request failed',
      );
    }
    return sendError(request, reply, classified, pages, true);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}` },
      pages,
      false,
    ),
  );
}

export default fp(errorsPlugin, { name: 'meldingskanal-errors', fastify: '5.x' });
