/**
 * Request validation. Two Ajv compilers, chosen per part of the request:
 * - query strings, path parameters and headers arrive as text, so they are coerced (`?limit=20` → 20);
 * - JSON bodies are validated exactly as sent: `"title": 42` is an error, not the string "42".
 * Fastify's default compiler coerces every part alike, which would let a wrong type in a body pass silently.
 * Both reject unknown fields (every object schema sets additionalProperties: false; nothing is removed silently).
 *
 * Input hygiene (which characters a string may hold, src/domain/text.ts) is decided here, by the `x-text` keyword
 * every request string carries (`Text.title()`, `Text.identifier()`… in src/http/schemas/common.ts). Why a schema
 * keyword rather than one hook over every string of the request: the rules depend on the field (a body may hold line
 * breaks, a title may not), and the schema is where a field is described once for validation, the OpenAPI document
 * and the types alike; the error then names the field like any other validation problem. So that no field can forget
 * it, a request schema with a string that has no kind (and no enum, const or format to restrict it) makes the app
 * fail to start, as a route without a policy does (src/http/policy.ts). What no schema describes (bytes that are not
 * UTF-8, headers read by hand, the query string's encoding) is checked by src/http/plugins/input-hygiene.ts with the
 * same rules.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { Ajv, AnySchemaObject, KeywordDefinition, SchemaValidateFunction } from 'ajv';
import type { FastifyServerOptions } from 'fastify';
import { isBlankText, isTextKind, normaliseText, TEXT_KINDS, type TextKind, textProblem } from '../domain/text.js';

const SHARED_OPTIONS = { removeAdditional: false, useDefaults: true, allErrors: true } as const;

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;

/** The schema keyword naming a string field's kind; also in the OpenAPI document (an `x-` extension). */
export const TEXT_KEYWORD = 'x-text';

/** The message of a required text field that holds nothing visible (src/http/plugins/errors.ts shows it as is). */
export const BLANK_MESSAGE = 'must not be blank';

const checkText: SchemaValidateFunction = (
  kind: TextKind,
  data: string,
  parentSchema?: AnySchemaObject,
  context?: Parameters<SchemaValidateFunction>[3],
) => {
  const fail = (message: string) => {
    // Ajv adds instancePath and schemaPath to the errors of a validate keyword.
    checkText.errors = [{ keyword: TEXT_KEYWORD, message, params: { kind } }];
    return false;
  };
  const problem = textProblem(data, kind);
  if (problem) return fail(problem);
  if ((parentSchema?.minLength ?? 0) > 0 && kind !== 'email' && isBlankText(data)) return fail(BLANK_MESSAGE);
  const normalised = normaliseText(data, kind);
  // NFC can lengthen a string (rarely); the limit holds for what is stored.
  if (parentSchema?.maxLength !== undefined && normalised.length > parentSchema.maxLength) {
    return fail(`must NOT have more than ${parentSchema.maxLength} characters`);
  }
  // A string at the root of a part (a text body) cannot be replaced here; those are checked, not rewritten.
  if (normalised !== data && context?.parentData && context.parentDataProperty !== undefined) {
    context.parentData[context.parentDataProperty] = normalised;
  }
  return true;
};

const textKeyword: KeywordDefinition = {
  keyword: TEXT_KEYWORD,
  type: 'string',
  schemaType: 'string',
  metaSchema: { enum: [...TEXT_KINDS] },
  modifying: true,
  errors: true,
  validate: checkText,
};

/** Adds the `x-text` keyword to an Ajv instance. */
export function addTextKeyword(ajv: Ajv): void {
  ajv.addKeyword(textKeyword);
}

/**
 * Whether a `date-time` that RFC 3339 accepts is also a time JavaScript and PostgreSQL can hold. Two are not, and
 * reached the database as a 500 (found by the contract fuzzer, tests/fuzz): a leap second (`23:59:60`, an invalid
 * Date in JavaScript) and the year 0000 (PostgreSQL has no year 0).
 */
export function isStorableDateTime(value: string): boolean {
  return !Number.isNaN(Date.parse(value)) && Number(value.slice(0, 4)) >= 1;
}

/** Narrows ajv-formats' `date-time` with isStorableDateTime. */
function storableDateTimes(ajv: Ajv): void {
  const rfc3339 = ajv.formats['date-time'];
  const check = typeof rfc3339 === 'object' && rfc3339 !== null && 'validate' in rfc3339 ? rfc3339.validate : rfc3339;
  if (typeof check !== 'function') throw new Error('ajv-formats did not add the date-time format');
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (value: string) => (check as (v: string) => boolean)(value) && isStorableDateTime(value),
  });
}

/** The keyword withFiniteNumbers adds to every number of a text part. */
const FINITE_KEYWORD = 'x-finite';

const finiteKeyword: KeywordDefinition = {
  keyword: FINITE_KEYWORD,
  // No `type: 'number'`: Ajv guards number keywords with isFinite, so this one would never see Infinity.
  schemaType: 'boolean',
  errors: true,
  validate: function finite(_: boolean, data: unknown) {
    if (typeof data !== 'number' || Number.isFinite(data)) return true;
    (finite as SchemaValidateFunction).errors = [{ keyword: FINITE_KEYWORD, message: 'must be a finite number' }];
    return false;
  },
};

/** Our additions to each Ajv instance that validates requests. */
function extendAjv(ajv: Ajv): void {
  addTextKeyword(ajv);
  storableDateTimes(ajv);
  ajv.addKeyword(finiteKeyword);
}

/**
 * A copy of a query, params or headers schema whose numbers must be finite. Ajv's coercion turns the text `1e309`
 * into Infinity, which then passes `integer` and skips `minimum`/`maximum` (they only compare finite numbers):
 * `?limit=1e309` reached the database as a 500 (found by the contract fuzzer, tests/fuzz). JSON bodies cannot
 * carry Infinity past the type check, so they are compiled as they are.
 */
export function withFiniteNumbers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withFiniteNumbers);
  if (!schema || typeof schema !== 'object') return schema;
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    // Enumerations and constants are values, not schemas.
    copy[key] =
      key === 'enum' || key === 'const' || key === 'default' || key === 'examples' ? value : withFiniteNumbers(value);
  }
  const types = Array.isArray(copy.type) ? copy.type : [copy.type];
  if (types.includes('integer') || types.includes('number')) copy[FINITE_KEYWORD] = true;
  return copy;
}

type JsonSchema = Record<string, unknown>;

const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const;
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'] as const;
const SUBSCHEMAS = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains'] as const;

/**
 * The strings of a request schema that declare no kind, as paths (`body.title`, `query.q`). A string restricted by
 * `enum`, `const` or `format` (uuid, date-time…) needs none: it cannot hold free text.
 */
export function stringsWithoutKind(schema: unknown, path: string): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const node = schema as JsonSchema;
  const found: string[] = [];
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (
    types.includes('string') &&
    !isTextKind(node[TEXT_KEYWORD]) &&
    node.enum === undefined &&
    node.const === undefined &&
    node.format === undefined
  ) {
    found.push(path);
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = node[key];
    if (map && typeof map === 'object') {
      for (const [name, sub] of Object.entries(map)) found.push(...stringsWithoutKind(sub, `${path}.${name}`));
    }
  }
  for (const key of SUBSCHEMA_LISTS) {
    const list = node[key];
    if (Array.isArray(list)) for (const sub of list) found.push(...stringsWithoutKind(sub, path));
  }
  for (const key of SUBSCHEMAS) {
    const sub = node[key];
    if (sub && typeof sub === 'object') found.push(...stringsWithoutKind(sub, key === 'items' ? `${path}[]` : path));
  }
  return found;
}

const PART_NAMES: Record<string, string> = { querystring: 'query', body: 'body', params: 'params', headers: 'headers' };

function assertKindsDeclared(route: { schema: unknown; method?: string; url?: string; httpPart?: string }): void {
  const part = PART_NAMES[route.httpPart ?? ''] ?? route.httpPart ?? 'request';
  const missing = stringsWithoutKind(route.schema, part);
  if (missing.length > 0) {
    throw new Error(
      `${route.method} ${route.url}: ${missing.join(', ')} ${missing.length === 1 ? 'is a string' : 'are strings'} ` +
        'without a text kind. Declare each with Text.identifier(), Text.title(), Text.line(), Text.multiline() or ' +
        `Text.email() from src/http/schemas/common.ts (or "${TEXT_KEYWORD}": one of ${TEXT_KINDS.join(', ')}), so ` +
        'the input hygiene rules of src/domain/text.ts apply to it',
    );
  }
}

type SchemaNode = Record<string, unknown>;

const isSchemaNode = (value: unknown): value is SchemaNode =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A response schema with every "X or null" (`anyOf: [X, { type: 'null' }]`, TypeBox's `Type.Union([X, Type.Null()])`)
 * written as X with `type: [X's type, 'null']`, for fast-json-stringify only (the OpenAPI document keeps the
 * original). fast-json-stringify picks an `anyOf` branch by running an Ajv validation of the value against each
 * branch, formats included, for every nullable field of every item: on a listing page of 20 announcements that made
 * serialising it four times the cost of JSON.stringify. With a type list it checks `=== null` / `typeof`. The output
 * is the same for every value the schema allows.
 */
export function withNullableTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withNullableTypes);
  if (!isSchemaNode(node)) return node;
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) out[key] = withNullableTypes(value);
  const anyOf = out.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return out;
  const nullIndex = anyOf.findIndex((branch) => isSchemaNode(branch) && branch.type === 'null');
  const other = anyOf[1 - nullIndex];
  if (nullIndex === -1 || !isSchemaNode(other) || typeof other.type !== 'string') return out;
  if (['anyOf', 'oneOf', 'allOf', '$ref', 'not', 'if'].some((keyword) => keyword in other)) return out;
  const { anyOf: _replaced, ...siblings } = out;
  return { ...siblings, ...other, type: [other.type, 'null'] };
}

export function requestValidation(): SchemaController {
  const bodies = AjvCompiler();
  const textParts = AjvCompiler();
  const serializers = SerializerSelector();
  return {
    compilersFactory: {
      buildSerializer(externalSchemas, serializerOptions) {
        const compile = serializers(externalSchemas, serializerOptions);
        return (route) => compile({ ...route, schema: withNullableTypes(route.schema) as typeof route.schema });
      },
      buildValidator(externalSchemas, ajvServerOptions) {
        const plugins = ajvServerOptions?.plugins ?? [];
        const forBodies = bodies(externalSchemas, {
          customOptions: { ...SHARED_OPTIONS, coerceTypes: false },
          plugins,
          onCreate: extendAjv,
        });
        const forText = textParts(externalSchemas, {
          customOptions: { ...SHARED_OPTIONS, coerceTypes: 'array' },
          plugins,
          onCreate: extendAjv,
        });
        return (route) => {
          assertKindsDeclared(route);
          return route.httpPart === 'body'
            ? forBodies(route)
            : forText({ ...route, schema: withFiniteNumbers(route.schema) as typeof route.schema });
        };
      },
    },
  };
}
