/**
 * Reading what pages are given: query parameters (one string each; a repeated one counts as its first), the
 * `?done=` a POST's 303 carries so the page it lands on can say what happened, and the field a service's
 * validation error names (details.field), so a form can show the error next to the right input.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../domain/errors.js';

/** A query parameter as one string, or undefined when absent or empty. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/** `?done=` when it is one of the page's own outcomes (anything else is ignored, never echoed). */
export function doneParam<T extends string>(request: FastifyRequest, outcomes: readonly T[]): T | undefined {
  const done = queryParam(request, 'done');
  return (outcomes as readonly string[]).includes(done ?? '') ? (done as T) : undefined;
}

/** `path` (which may have a query already) with `done=<outcome>`, for the 303 after a successful POST. */
export function withDone(path: string, done: string): string {
  const [pathname, query] = path.split('?', 2) as [string, string | undefined];
  const params = new URLSearchParams(query ?? '');
  params.set('done', done);
  return `${pathname}?${params.toString()}`;
}

/** The field a validation error from a service is about (`{ field }` or `[{ field }, …]` in its details). */
export function errorField(error: unknown): string | undefined {
  if (!(error instanceof AppError) || error.code !== 'validation_failed') return undefined;
  const details = Array.isArray(error.details) ? error.details[0] : error.details;
  const field = (details as { field?: unknown } | undefined)?.field;
  return typeof field === 'string' ? field : undefined;
}
