/**
 * Request validation. Two Ajv compilers, chosen per part of the request:
 * - query strings, path parameters and headers arrive as text, so they are coerced (`?limit=20` → 20);
 * - JSON bodies are validated exactly as sent: `"title": 42` is an error, not the string "42".
 * Fastify's default compiler coerces every part alike, which would let a wrong type in a body pass silently.
 * Both reject unknown fields (every object schema sets additionalProperties: false; nothing is removed silently).
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

const SHARED_OPTIONS = { removeAdditional: false, useDefaults: true, allErrors: true } as const;

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;

export function requestValidation(): SchemaController {
  const bodies = AjvCompiler();
  const textParts = AjvCompiler();
  return {
    compilersFactory: {
      buildValidator(externalSchemas, ajvServerOptions) {
        const plugins = ajvServerOptions?.plugins ?? [];
        const forBodies = bodies(externalSchemas, {
          customOptions: { ...SHARED_OPTIONS, coerceTypes: false },
          plugins,
        });
        const forText = textParts(externalSchemas, {
          customOptions: { ...SHARED_OPTIONS, coerceTypes: 'array' },
          plugins,
        });
        return (route) => (route.httpPart === 'body' ? forBodies(route) : forText(route));
      },
    },
  };
}
