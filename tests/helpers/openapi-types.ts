/**
 * TypeScript types generated from an OpenAPI document with openapi-typescript, as an integrator generates them.
 *
 * openapi-typescript prints its types with the TypeScript compiler's JavaScript API (ts.factory, the printer). The
 * project compiles with TypeScript 7, whose package has no such API; Microsoft's side-by-side package
 * @typescript/typescript6 has it. So, for openapi-typescript only, its `import ts from 'typescript'` is resolved to
 * that package by a module resolution hook (package.json's overrides lets it install next to TypeScript 7).
 */
import { register } from 'node:module';

const HOOK = `
export async function resolve(specifier, context, next) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/openapi-typescript/')) {
    return next('@typescript/typescript6', context);
  }
  return next(specifier, context);
}`;

let registered = false;

/** The `paths`, `webhooks` and `components` types of `document`, as the text of a .d.ts file. */
export async function generateOpenApiTypes(document: unknown): Promise<string> {
  if (!registered) {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`, import.meta.url);
    registered = true;
  }
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  return astToString(await openapiTS(document as Parameters<typeof openapiTS>[0]));
}
