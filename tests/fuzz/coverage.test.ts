/**
 * The contract fuzzer covers the whole contract: every operation of /api/openapi.json has an entry in OPERATIONS
 * (tests/helpers/fuzz/contract.ts) that says which test file fuzzes it, and every entry is a documented operation.
 * A new route fails here until it is added there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { OPERATIONS, SHARDS } from '../helpers/fuzz/contract.js';

let ctx: TestContext;
let documented: string[];

beforeAll(async () => {
  ctx = await createTestContext();
  const app = await buildApp(ctx.deps, { logger: false });
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  documented = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method))
      .map((method) => `${method} ${path}`),
  );
  await app.close();
});

afterAll(async () => {
  await ctx?.close();
});

describe('contract fuzzer coverage', () => {
  it('fuzzes every documented operation', () => {
    const missing = documented.filter((key) => !(key in OPERATIONS));
    expect(missing, 'add these to OPERATIONS in tests/helpers/fuzz/contract.ts').toEqual([]);
  });

  it('lists only documented operations', () => {
    const stale = Object.keys(OPERATIONS).filter((key) => !documented.includes(key));
    expect(stale, 'remove these from OPERATIONS, or document them').toEqual([]);
  });

  it('gives every operation a shard that has a test file', () => {
    for (const [key, spec] of Object.entries(OPERATIONS)) expect(SHARDS, key).toContain(spec.shard);
    expect(documented.length).toBeGreaterThan(70);
  });
});
