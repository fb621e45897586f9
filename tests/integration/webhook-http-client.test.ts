/**
 * The SSRF-guarded webhook client (src/webhooks/http-client.ts) against real HTTP servers on 127.0.0.1: which
 * addresses it connects to (literal, resolved — every address —, allowlisted by name or range), DNS rebinding,
 * redirects never followed, the deadline and the response size cap.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ALLOWLIST, parseAllowlist } from '../../src/webhooks/addresses.js';
import { createWebhookHttpClient, type ResolveAll, WebhookSendError } from '../../src/webhooks/http-client.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let port: number;
const received: Received[] = [];
/** What the next request gets, by path. */
const handlers = new Map<string, (res: http.ServerResponse) => void>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const handler = handlers.get(req.url!);
      if (handler) handler(res);
      else res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

const allowLoopback = parseAllowlist(['127.0.0.1']);
const resolvingTo =
  (...addresses: string[]): ResolveAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

async function failure(promise: Promise<unknown>): Promise<WebhookSendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookSendError);
  return error as WebhookSendError;
}

function countTo(path: string): number {
  return received.filter((r) => r.url === path).length;
}

describe('addresses', () => {
  it('POSTs JSON to an allowlisted literal address and reports status and latency', async () => {
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 2000 });
    const response = await client.post(`http://127.0.0.1:${port}/ok`, { 'webhook-id': 'msg_1' }, '{"a":1}');
    expect(response.status).toBe(204);
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);
    const request = received.find((r) => r.url === '/ok')!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe('msg_1');
    expect(request.body).toBe('{"a":1}');
  });

  it('refuses loopback, private and link-local literals without an allowlist, before connecting', async () => {
    const client = createWebhookHttpClient({ allowlist: EMPTY_ALLOWLIST, timeoutMs: 2000 });
    for (const [url, words] of [
      [`http://127.0.0.1:${port}/never`, 'loopback'],
      [`http://[::1]:${port}/never`, 'loopback'],
      [`http://[::ffff:127.0.0.1]:${port}/never`, 'loopback'],
      [`http://0.0.0.0:${port}/never`, 'unspecified'],
      [`http://2130706433:${port}/never`, 'loopback'], // 127.0.0.1 as a number: URL normalises it
      ['http://10.0.0.1/never', 'private'],
      ['http://169.254.169.254/latest/meta-data', 'link-local'],
      ['http://100.100.100.100/never', 'shared'],
      ['http://[fd00::1]/never', 'unique-local'],
    ] as const) {
      const error = await failure(client.post(url, {}, '{}'));
      expect(error.kind, url).toBe('refused_address');
      expect(error.message, url).toContain(words);
    }
    expect(countTo('/never')).toBe(0);
  });

  it('refuses a name when ANY of its addresses is internal (the system may connect to any of them)', async () => {
    const client = createWebhookHttpClient({
      allowlist: EMPTY_ALLOWLIST,
      timeoutMs: 2000,
      resolveAll: resolvingTo('93.184.215.14', '127.0.0.1'),
    });
    const error = await failure(client.post(`http://mixed.example.test:${port}/never`, {}, '{}'));
    expect(error).toMatchObject({ kind: 'refused_address' });
    expect(error.message).toBe('mixed.example.test (127.0.0.1) is a loopback address, which webhooks may not reach');
    await expect(client.check(`http://mixed.example.test:${port}/`)).rejects.toMatchObject({ kind: 'refused_address' });
  });

  it('checks the addresses again at connect time: a name that resolved to a public address before and to 127.0.0.1 now is refused (DNS rebinding)', async () => {
    let answer = '93.184.215.14';
    const client = createWebhookHttpClient({
      allowlist: EMPTY_ALLOWLIST,
      timeoutMs: 2000,
      resolveAll: async () => [{ address: answer, family: 4 }],
    });
    await client.check(`http://rebind.example.test:${port}/rebind`); // registration: fine
    answer = '127.0.0.1';
    const error = await failure(client.post(`http://rebind.example.test:${port}/rebind`, {}, '{}'));
    expect(error.kind).toBe('refused_address');
    expect(countTo('/rebind')).toBe(0);
  });

  it('connects to an internal address when the host name or its range is allowlisted', async () => {
    const byName = createWebhookHttpClient({
      allowlist: parseAllowlist(['hooks.intern.example.test']),
      timeoutMs: 2000,
      resolveAll: resolvingTo('127.0.0.1'),
    });
    expect((await byName.post(`http://hooks.intern.example.test:${port}/named`, {}, '{}')).status).toBe(204);
    const byRange = createWebhookHttpClient({
      allowlist: parseAllowlist(['127.0.0.0/8']),
      timeoutMs: 2000,
      resolveAll: resolvingTo('127.0.0.1'),
    });
    expect((await byRange.post(`http://other.example.test:${port}/ranged`, {}, '{}')).status).toBe(204);
    const request = received.find((r) => r.url === '/named')!;
    expect(request.headers.host).toBe(`hooks.intern.example.test:${port}`);
  });

  it('reports a name that does not resolve', async () => {
    const client = createWebhookHttpClient({
      allowlist: EMPTY_ALLOWLIST,
      timeoutMs: 2000,
      resolveAll: async () => {
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    const error = await failure(client.post('http://nowhere.example.test/', {}, '{}'));
    expect(error).toMatchObject({ kind: 'dns', message: 'nowhere.example.test does not resolve (ENOTFOUND)' });
  });
});

describe('URLs', () => {
  it('takes only http and https, without credentials', async () => {
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 2000 });
    for (const [url, message] of [
      ['ftp://127.0.0.1/', 'only http:// and https://'],
      ['file:///etc/passwd', 'only http:// and https://'],
      ['javascript:alert(1)', 'only http:// and https://'],
      [`http://user:pass@127.0.0.1:${port}/`, 'user name or password'],
      [`http://user@127.0.0.1:${port}/`, 'user name or password'],
      ['not a url', 'not a valid URL'],
    ] as const) {
      const error = await failure(client.post(url, {}, '{}'));
      expect(error.kind, url).toBe('invalid_url');
      expect(error.message, url).toContain(message);
    }
  });
});

describe('answers', () => {
  it('does not follow a redirect, even to an allowed address: 3xx is a failure', async () => {
    handlers.set('/moved', (res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end());
    handlers.set('/moved-permanently', (res) =>
      res.writeHead(308, { location: `http://127.0.0.1:${port}/target` }).end(),
    );
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 2000 });
    const error = await failure(client.post(`http://127.0.0.1:${port}/moved`, {}, '{}'));
    expect(error).toMatchObject({ kind: 'redirect', status: 302 });
    expect(error.message).toContain(`redirect to http://127.0.0.1:${port}/target not followed`);
    await expect(client.post(`http://127.0.0.1:${port}/moved-permanently`, {}, '{}')).rejects.toMatchObject({
      kind: 'redirect',
      status: 308,
    });
    expect(countTo('/target')).toBe(0);
  });

  it('resolves with 4xx and 5xx answers and the start of their body, for the caller to judge', async () => {
    handlers.set('/error', (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('database down'));
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 2000 });
    const response = await client.post(`http://127.0.0.1:${port}/error`, {}, '{}');
    expect(response).toMatchObject({ status: 500, bodyExcerpt: 'database down' });
  });

  it('gives up after the deadline when the receiver does not answer', async () => {
    handlers.set('/slow', () => {
      // Never answers.
    });
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 300 });
    const started = Date.now();
    const error = await failure(client.post(`http://127.0.0.1:${port}/slow`, {}, '{}'));
    expect(error).toMatchObject({ kind: 'timeout', message: 'no complete answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reads at most the size cap of a response body and does not wait for the rest', async () => {
    handlers.set('/huge', (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // 1 MiB now, and the response never ends: only the cap lets the call finish.
      res.write(Buffer.alloc(1024 * 1024, 'a'));
    });
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 5000, maxResponseBytes: 1024 });
    const response = await client.post(`http://127.0.0.1:${port}/huge`, {}, '{}');
    expect(response.status).toBe(200);
    expect(response.bodyExcerpt).toBe('a'.repeat(500));
  });

  it('reports a refused connection as a network error', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const client = createWebhookHttpClient({ allowlist: allowLoopback, timeoutMs: 2000 });
    const error = await failure(client.post(`http://127.0.0.1:${closedPort}/`, {}, '{}'));
    expect(error.kind).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
  });
});
