/**
 * fast-check arbitraries from the JSON Schemas of the OpenAPI document (2020-12: what TypeBox emits), for the
 * contract fuzzer. Values mostly follow the schema, so requests get past validation and into the services; with a
 * weight of `hostility` a leaf is replaced by something hostile (a corpus string, a wrong type, hostile characters),
 * so every field is also tried with what it must refuse.
 */
import fc from 'fast-check';
import { NASTY_STRINGS, WRONG_TYPES } from './corpus.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema nodes are walked generically
export type JsonSchema = Record<string, any>;

export interface SchemaContext {
  /** Resolves a `$ref` (`#/components/schemas/Error`). */
  resolve(ref: string): JsonSchema;
  /** Values that name real objects or need no network for a field of this name, when there are any. */
  goodValues(field: string): fc.Arbitrary<unknown> | undefined;
  /** Weight of a hostile leaf against 10 for a valid one (0: valid only). */
  hostility: number;
}

/** One character of the kinds that break things, among ordinary ones. */
export const hostileChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ABC0123456789-_.,æøåÆØÅ') },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u200b',
      '\u200d',
      '\u202e',
      '\u2066',
      '\u2069',
      '\ufeff',
      '\u00ad',
      '\u0301',
      '\u2028',
    ),
  },
);

export const hostileString = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: hostileChar, maxLength });

/** Something a field of any type must refuse (or cope with). */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...WRONG_TYPES) },
  { weight: 2, arbitrary: hostileString() },
);

const TEXT_UNITS: Record<string, fc.Arbitrary<string>> = {
  identifier: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'),
  title: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ÆØÅæøå0123456789.,:!?-') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  ),
  multiline: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz *#_-[]()>\n\t\r`.ÆØÅ') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  ),
};

const URLS = ['https://93.184.215.14/hook', 'http://192.0.2.10/hook', 'https://[2606:2800:220:1::]/x', 'https://x'];

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('1999-01-01T00:00:00Z'), max: new Date('2101-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (schema.format === 'date') {
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
  }
  if (schema.format === 'uri') return fc.constantFrom(...URLS);
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 10_000;
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern);
    return fc.stringMatching(pattern).filter((s) => s.length >= min && s.length <= max);
  }
  if (schema['x-text'] === 'email') return fc.oneof(fc.emailAddress(), fc.constant('ola.nordmann@example.org'));
  const unit = TEXT_UNITS[schema['x-text'] === 'line' ? 'title' : (schema['x-text'] ?? 'title')] ?? TEXT_UNITS.title!;
  const ordinary = fc.string({ unit, minLength: Math.max(min, 1), maxLength: Math.min(max, Math.max(min, 40)) });
  // The limits themselves, and one past them.
  const boundaries = [min > 0 ? 'a'.repeat(min - 1) : undefined, 'a'.repeat(Math.min(max, 30_000))];
  if (max < 30_000) boundaries.push('a'.repeat(max + 1));
  return fc.oneof(
    { weight: 10, arbitrary: ordinary },
    { weight: 1, arbitrary: fc.constantFrom(...boundaries.filter((b): b is string => b !== undefined)) },
  );
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<unknown> {
  const min = schema.minimum ?? (integer ? -(2 ** 31) : -1e9);
  const max = schema.maximum ?? (integer ? 2 ** 31 : 1e9);
  const inside = integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
  return fc.oneof(
    { weight: 10, arbitrary: inside },
    { weight: 2, arbitrary: fc.constantFrom(min, max, min - 1, max + 1) },
  );
}

/** Values that follow `schema`, each leaf hostile with weight `context.hostility` (against 10). */
export function arbitraryOf(schema: JsonSchema | undefined, context: SchemaContext, field = ''): fc.Arbitrary<unknown> {
  if (!schema || Object.keys(schema).length === 0) return fc.constantFrom('x', 1, null, {});
  if (schema.$ref) return arbitraryOf(context.resolve(schema.$ref), context, field);
  const good = context.goodValues(field);
  const valid = good ?? validArbitrary(schema, context);
  if (context.hostility === 0) return valid;
  const isLeaf = !['object', 'array'].includes(schema.type);
  return fc.oneof(
    { weight: 10, arbitrary: valid },
    // Containers are mostly kept (their leaves are hostile in turn), now and then replaced whole.
    { weight: isLeaf ? context.hostility : 1, arbitrary: hostileValue },
  );
}

function validArbitrary(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return fc.oneof(...branches.map((b: JsonSchema) => arbitraryOf(b, context)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return numberArbitrary(schema, true);
    case 'number':
      return numberArbitrary(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const maxItems = Math.min(schema.maxItems ?? 5, 5);
      const minItems = Math.min(schema.minItems ?? 0, maxItems);
      const items = arbitraryOf(schema.items, context);
      const size = { minLength: minItems, maxLength: maxItems };
      return schema.uniqueItems
        ? fc.uniqueArray(items, { ...size, selector: (item) => JSON.stringify(item) })
        : fc.array(items, size);
    }
    case 'object':
      return objectArbitrary(schema, context);
    default:
      return fc.constantFrom('x', 1, null);
  }
}

function objectArbitrary(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const model = Object.fromEntries(
    Object.entries(properties).map(([name, sub]) => [name, arbitraryOf(sub, context, name)]),
  );
  const record = fc.record(model, { requiredKeys: (schema.required ?? []) as string[] });
  if (context.hostility === 0) return record;
  // Now and then a field the schema does not have (additionalProperties: false refuses it).
  const extraField = fc.oneof(
    { weight: 12, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('extra', '__proto__', 'constructor', '') },
  );
  return fc.tuple(record, extraField).map(([value, extra]) => {
    if (extra === null) return value;
    const copy = { ...(value as object) };
    Object.defineProperty(copy, extra, { value: 'x', enumerable: true, configurable: true, writable: true });
    return copy;
  });
}
