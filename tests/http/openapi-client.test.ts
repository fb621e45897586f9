/**
 * The OpenAPI document is usable, not only valid: a typed client is generated from it as an integrator would
 * (openapi-typescript for the types, openapi-fetch to call), a small program written against those types is
 * type-checked — including calls the types must refuse — and then run against the app listening on a free port.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createUser, tokenFor } from '../helpers/factories.js';
import { generateOpenApiTypes } from '../helpers/openapi-types.js';

const run = promisify(execFile);

/**
 * The integrator's program, against the generated `paths`. The `@ts-expect-error` lines are calls the types must
 * refuse: if the generated types let them through (say, everything typed `any`), the directive is unused and the
 * type check fails.
 */
const SCENARIO = `
import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type Announcement = paths['/api/v1/announcements/{id}']['get']['responses'][200]['content']['application/json'];
type ErrorCode = components['schemas']['Error']['error']['code'];

export async function scenario(baseUrl: string, token: string, webhookUrl: string) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const slug = \`typed-\${Date.now()}\`;

  const channel = await client.POST('/api/v1/channels', { body: { slug, title: 'Typed client', visibility: 'public' } });
  if (!channel.data) throw new Error(\`createChannel: \${channel.response.status}\`);

  const published = await client.POST('/api/v1/channels/{slug}/announcements', {
    params: { path: { slug } },
    body: { title: 'Fra en generert klient', body: 'Skrevet mot **OpenAPI-dokumentet**.', importance: 'important' },
  });
  if (!published.data) throw new Error(\`publishAnnouncement: \${published.response.status}\`);
  const id: string = published.data.id;

  // Defaults (limit, archive) may be left out.
  const feed = await client.GET('/api/v1/channels/{slug}/announcements', { params: { path: { slug } } });
  const one = await client.GET('/api/v1/announcements/{id}', { params: { path: { id } } });
  const announcement: Announcement | undefined = one.data;

  const subscribed = await client.PUT('/api/v1/me/subscriptions/{slug}', {
    params: { path: { slug } },
    body: { emailMode: 'daily', language: 'nn' },
  });
  const mine = await client.GET('/api/v1/me/subscriptions');

  const webhook = await client.POST('/api/v1/channels/{slug}/webhooks', {
    params: { path: { slug } },
    body: { url: webhookUrl, format: 'slack', events: ['announcement.published', 'announcement.retracted'] },
  });

  const missing = await client.GET('/api/v1/announcements/{id}', {
    params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
  });
  const code: ErrorCode | undefined = missing.error?.error.code;

  return {
    channel: channel.data.slug,
    published: { status: published.response.status, id, importance: published.data.importance },
    feed: feed.data?.items.map((item) => item.id) ?? [],
    title: announcement?.title,
    bodyHtml: announcement?.bodyHtml,
    subscription: subscribed.data ? { mode: subscribed.data.emailMode, language: subscribed.data.language } : null,
    mine: mine.data?.items.map((item) => item.channel) ?? [],
    webhook: webhook.data ? { events: webhook.data.events, secret: webhook.data.secret.startsWith('whsec_') } : null,
    missing: { status: missing.response.status, code },
  };
}

export async function refusedByTheTypes(client: ReturnType<typeof createClient<paths>>) {
  // @ts-expect-error a channel needs a title
  await client.POST('/api/v1/channels', { body: { slug: 'x' } });
  // @ts-expect-error importance is info, important or critical
  await client.POST('/api/v1/channels/{slug}/announcements', { params: { path: { slug: 'x' } }, body: { title: 't', body: 'b', importance: 'urgent' } });
  // @ts-expect-error the path parameter is required
  await client.GET('/api/v1/announcements/{id}', {});
  // @ts-expect-error no such operation
  await client.GET('/api/v1/announcement');
  // @ts-expect-error an event type that does not exist
  await client.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: 'x' } }, body: { events: ['announcement.deleted'] } });
}
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    noEmit: true,
    skipLibCheck: true,
    types: [],
  },
  files: ['scenario.ts'],
};

let ctx: TestContext;
let app: FastifyInstance;
let dir: string;
let baseUrl: string;

beforeAll(async () => {
  ctx = await createTestContext({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  app = await buildApp(ctx.deps, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  baseUrl = `http://127.0.0.1:${port}`;

  // The document as an integrator downloads it.
  const document = await (await fetch(`${baseUrl}/api/openapi.json`)).json();
  dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
  writeFileSync(join(dir, 'api.d.ts'), await generateOpenApiTypes(document));
  writeFileSync(join(dir, 'scenario.ts'), SCENARIO);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  // The program imports openapi-fetch as an integrator's would: from its own node_modules.
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a client generated from GET /api/openapi.json', () => {
  it('type-checks a program written against it, and refuses the calls the contract does not allow', async () => {
    const tsc = join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: `exit ${error.code}\n${error.stdout ?? ''}` }),
    );
    expect(result.stdout).toBe('');
  });

  it('calls the app: create a channel, publish, list the feed, read, subscribe, register a webhook, a 404', async () => {
    const admin = await createUser(ctx.deps.db, { isAdmin: true });
    const token = await tokenFor(ctx.deps.db, admin.id, { scopes: ['read', 'publish', 'admin'] });
    const { scenario } = (await import(pathToFileURL(join(dir, 'scenario.ts')).href)) as {
      scenario: (baseUrl: string, token: string, webhookUrl: string) => Promise<Record<string, unknown>>;
    };
    const result = await scenario(baseUrl, token, `${baseUrl}/receiver`);
    const id = (result.published as { id: string }).id;
    expect(result).toEqual({
      channel: expect.stringMatching(/^typed-/),
      published: { status: 201, id: expect.any(String), importance: 'important' },
      feed: [id],
      title: 'Fra en generert klient',
      bodyHtml: expect.stringContaining('<strong>OpenAPI-dokumentet</strong>'),
      subscription: { mode: 'daily', language: 'nn' },
      mine: [result.channel],
      webhook: { events: ['announcement.published', 'announcement.retracted'], secret: true },
      missing: { status: 404, code: 'not_found' },
    });
  });
});
