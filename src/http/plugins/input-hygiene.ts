/**
 * Input hygiene for what no schema describes (the rules: src/domain/text.ts; schema fields: the `x-text` keyword of
 * src/http/validation.ts). Registered without encapsulation, before authentication, so it covers every route:
 *
 * - **Bytes that are not UTF-8.** Node decodes request bodies and URLs leniently, turning malformed bytes into U+FFFD
 *   (or keeping `%FF` as it is), so text nobody sent would be stored. JSON bodies are parsed here from their bytes
 *   (Fastify's own parser, after a strict UTF-8 decoding), percent-encoded query strings are decoded strictly, and
 *   text bodies (utf8Text) and form bodies (urlEncodedProblem) use the same checks. A malformed path answers 400
 *   through frameworkErrorHandler, in the usual error shape.
 * - **Path parameters**, before route policies and the audit log read them: no control characters, line breaks or
 *   lone surrogates (their schemas then apply their own kind's rules).
 * - **Headers.** Control characters in any header (Node's HTTP parser already refuses most of them on the wire;
 *   this also holds for requests that do not come over a socket), and headers the app reads must be UTF-8.
 *
 * Every refusal is a 400 `validation_failed` naming the part (`body`, `query`, `headers.user-agent`), never echoing
 * the characters themselves.
 *
 * - **What any body can get.** A request of a method that carries a body can be refused for its body even where the
 *   operation takes none (413 over the limit, 415 for a type without a parser, 400 for malformed JSON), so those
 *   statuses are added to the documented responses of every such route (the contract fuzzer, tests/fuzz, found them
 *   missing).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../domain/errors.js';
import { codePointLabel, decodeUtf8, textProblem } from '../../domain/text.js';
import { BODY_ERRORS, errorResponses } from '../schemas/common.js';
import { errorBody } from './errors.js';

/**
 * Headers the app reads as text (src/http and its plugins). Their bytes must be UTF-8 (Node hands them over as
 * Latin-1, one character per byte). Others pass through untouched: a proxy's header is not ours to judge.
 */
export const HEADERS_READ = [
  'accept-language',
  'authorization',
  'cookie',
  'idempotency-key',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'last-event-id',
  'origin',
  'referer',
  'sec-fetch-site',
  'user-agent',
  'x-csrf-token',
  'x-request-id',
] as const;

// biome-ignore lint/suspicious/noControlCharactersInRegex: any character beyond ASCII.
const NON_ASCII = /[^\u0000-\u007f]/;

/** Tab is allowed in header values (RFC 9110 field-value); every other control character is not. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const HEADER_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The 400 of a refused part of a request, naming it (`body`, `query`, `headers.user-agent`, `body.title`). */
export function invalidInput(field: string, message: string): AppError {
  return new AppError('validation_failed', `The request is invalid: ${field} ${message}`, [{ field, message }]);
}

/** The bytes a Latin-1 string stands for, or null when it holds a character beyond U+00FF (no byte is that). */
function latin1Bytes(value: string): Uint8Array | null {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) return null;
    bytes[i] = code;
  }
  return bytes;
}

/** What is wrong with one header value, or null. */
export function headerProblem(name: string, value: string): string | null {
  const control = HEADER_CONTROL.exec(value);
  if (control) return `must not contain control characters (it holds ${codePointLabel(control[0].codePointAt(0)!)})`;
  if (!(HEADERS_READ as readonly string[]).includes(name) || !NON_ASCII.test(value)) return null;
  const bytes = latin1Bytes(value);
  if (bytes === null || decodeUtf8(bytes) === null) return 'must be UTF-8 text';
  return null;
}

/**
 * What is wrong with percent-encoded text (a query string, a form body), or null: its escapes must decode to UTF-8.
 * A `%` that starts no escape stays a `%`, as the parsers read it.
 */
export function urlEncodedProblem(text: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: any character beyond ASCII.
  if (!/%[89a-fA-F][0-9a-fA-F]|[^\u0000-\u007f]/.test(text)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (char <= 0x7f) {
      bytes.push(char);
    } else {
      // Already text (a form body decoded as UTF-8): encode it back.
      bytes.push(...Buffer.from(String.fromCodePoint(text.codePointAt(i)!), 'utf8'));
      if (char >= 0xd800 && char <= 0xdbff) i++;
    }
  }
  return decodeUtf8(Uint8Array.from(bytes)) === null ? 'must be UTF-8 when percent-decoded' : null;
}

/** A text body's bytes as text; a 400 naming the body when they are not UTF-8. */
export function utf8Text(body: Buffer): string {
  const text = decodeUtf8(body);
  if (text === null) throw invalidInput('body', 'must be UTF-8 text');
  return text;
}

/**
 * The `frameworkErrors` option of buildApp: Fastify's own refusals before routing (a path whose percent-escapes are
 * not UTF-8, a parameter over maxParamLength) in the usual error shape with the request id, instead of Fastify's.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const problem = tooLong ? 'is too long' : 'is not a valid address: its percent-escapes must decode to UTF-8';
  const field = 'path';
  reply
    .code(400)
    .header('x-request-id', request.id)
    .send(
      errorBody(request.id, {
        code: 'validation_failed',
        message: `The request is invalid: ${field} ${problem}`,
        details: [{ field, message: problem }],
      }),
    );
}

/** A route's response entry: a schema, or a content-type map of them. */
type ResponseSchema = Record<string, unknown>;

/** Methods whose requests may carry a body (Fastify parses one for these). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

async function inputHygienePlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<string, ResponseSchema> | undefined;
    if (!response) return;
    const methods = [route.method].flat();
    const statuses: number[] = methods.some((method) => BODY_METHODS.has(method)) ? [...BODY_ERRORS] : [400];
    const common = errorResponses(...BODY_ERRORS) as Record<number, ResponseSchema>;
    // The route's own descriptions win; only the missing statuses are added.
    const merged: Record<string, ResponseSchema> = {
      ...Object.fromEntries(statuses.map((status) => [status, common[status]!])),
      ...response,
    };
    route.schema = { ...route.schema, response: merged };
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === null) {
      done(invalidInput('body', 'must be UTF-8 text (JSON is UTF-8)') as unknown as FastifyError, undefined);
      return;
    }
    parseJson(request, text, done);
  });

  // A callback hook (the checks never wait; an async hook would cost every request a promise), walking the
  // parameters and headers with for…in rather than Object.entries, which built arrays per request for nothing.
  app.addHook('onRequest', (request, _reply, done) => {
    done(requestProblem(request) ?? undefined);
  });
}

/** The first refusal of a request's path parameters, headers or query, or null. */
function requestProblem(request: FastifyRequest): AppError | null {
  // Path parameters are read before validation (route policies, the audit record of a denied request): whatever
  // their schema says later, none may hold control characters, line breaks or lone surrogates.
  const params = (request.params ?? {}) as Record<string, unknown>;
  for (const name in params) {
    const value = params[name];
    const problem = typeof value === 'string' ? textProblem(value, 'line') : null;
    if (problem) return invalidInput(`params.${name}`, problem);
  }
  const headers = request.headers;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') {
      const problem = headerProblem(name, value);
      if (problem) return invalidInput(`headers.${name}`, problem);
    } else if (Array.isArray(value)) {
      for (const one of value) {
        if (typeof one !== 'string') continue;
        const problem = headerProblem(name, one);
        if (problem) return invalidInput(`headers.${name}`, problem);
      }
    }
  }
  const query = request.url.indexOf('?');
  if (query !== -1) {
    const problem = urlEncodedProblem(request.url.slice(query + 1));
    if (problem) return invalidInput('query', problem);
  }
  return null;
}

export default fp(inputHygienePlugin, { name: 'meldingskanal-input-hygiene', fastify: '5.x' });
