/**
 * HTML form bodies (application/x-www-form-urlencoded) as plain objects: a field sent once is a string, a field sent
 * several times (checkbox groups) an array of strings, in order. One parser for every plugin that takes forms; each
 * registers it in its own scope with its own body limit, so JSON routes never accept form bodies.
 */
import type { FastifyInstance } from 'fastify';
import { textProblem } from '../domain/text.js';
import { invalidInput, urlEncodedProblem, utf8Text } from './plugins/input-hygiene.js';

export type FormBody = Record<string, string | string[]>;

/**
 * The fields of a form body. Input hygiene (src/domain/text.ts) applies as to every request: the body and its
 * percent-escapes must be UTF-8, and no field may hold control characters other than tab and line breaks (a 400
 * naming `body.<field>`); fields are NFC-normalised. Pages read fields by hand, so a field with stricter rules (one
 * line, no bidi controls) is checked where it is read.
 */
export function parseFormBody(text: string): FormBody {
  const encoding = urlEncodedProblem(text);
  if (encoding) throw invalidInput('body', encoding);
  const body: FormBody = {};
  for (const [name, raw] of new URLSearchParams(text)) {
    const nameProblem = textProblem(name, 'identifier');
    if (nameProblem) throw invalidInput('body', `field names ${nameProblem}`);
    const problem = textProblem(raw, 'multiline');
    if (problem) throw invalidInput(`body.${name.slice(0, 64)}`, problem);
    const value = raw.normalize('NFC');
    const before = body[name];
    if (before === undefined) body[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else body[name] = [before, value];
  }
  return body;
}

export function acceptFormBodies(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit },
    async (_request: unknown, body: Buffer) => parseFormBody(utf8Text(body)),
  );
}

/** A form field as one string (the first when sent several times), or undefined. */
export function formString(body: unknown, name: string): string | undefined {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** A form field as a list of strings (checkbox groups): empty when absent. */
export function formStrings(body: unknown, name: string): string[] {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
