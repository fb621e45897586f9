/**
 * HTML form bodies (application/x-www-form-urlencoded) as plain objects: a field sent once is a string, a field sent
 * several times (checkbox groups) an array of strings, in order. One parser for every plugin that takes forms; each
 * registers it in its own scope with its own body limit, so JSON routes never accept form bodies.
 */
import type { FastifyInstance } from 'fastify';

export type FormBody = Record<string, string | string[]>;

export function parseFormBody(text: string): FormBody {
  const body: FormBody = {};
  for (const [name, value] of new URLSearchParams(text)) {
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
    { parseAs: 'string', bodyLimit },
    (_request, body, done) => done(null, parseFormBody(body as string)),
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
