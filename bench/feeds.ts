/**
 * Feed reads: the newest 20 of a public channel as JSON (`GET /api/v1/channels/{slug}/announcements?limit=20`), its
 * Atom feed (`/feeds/channels/{slug}.atom`) and its HTML page (`/channels/{slug}`, the web app's channel page, and an
 * announcement's page beside it), 100 connections, unconditional and conditional (If-None-Match →
 * 304); an older page through the keyset cursor; and the p99 latency at a fixed 1,000 requests/s. Anonymous readers,
 * as feed readers and widgets are.
 *
 * Baselines, measured in the same run against a bare Fastify in its own process (bench/servers/feed-baseline.ts):
 * hello-world, the same page from memory (the product's own bytes), and the same 20 rows read with plain `pg`.
 * Clients (autocannon) run in a third process. Every run is bounded by its duration.
 *
 * Settings: BENCH_FEED_DURATION_S (measured seconds per run, default 5), BENCH_FEED_WARMUP_S (default 2),
 * BENCH_FEED_CONNECTIONS (default 100), BENCH_FEED_ROUNDS (each pair measured this many times, medians reported,
 * default 1), BENCH_FEED_RATE (the fixed rate, default 1000), BENCH_FEED_CASES (comma-separated run names, e.g.
 * `pgOlder,older,pgOlderFixed,olderFixed`: only those are measured, the others' figures are NaN; default all).
 *
 * Run alone: `npx tsx bench/feeds.ts`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAnnouncementCursor } from '../src/domain/cursor.js';
import { type LoadResult, type LoadSpec, runLoad } from './lib/load.js';
import { cpuTimeOf, describeChild, freePort, startNode, waitUntil } from './lib/processes.js';
import { envNumber, median, progress, ratio, summarise, Targets } from './lib/report.js';
import { seedAnnouncements, seedChannel, seedOrganisations, seedPublisher } from './lib/seed.js';
import { createWorld, startApi } from './lib/world.js';

const DURATION_S = envNumber('BENCH_FEED_DURATION_S', 5);
const WARMUP_S = envNumber('BENCH_FEED_WARMUP_S', 2);
const CONNECTIONS = envNumber('BENCH_FEED_CONNECTIONS', 100);
const ROUNDS = envNumber('BENCH_FEED_ROUNDS', 1);
const FIXED_RATE = envNumber('BENCH_FEED_RATE', 1000);
const CASES = process.env.BENCH_FEED_CASES
  ? new Set(process.env.BENCH_FEED_CASES.split(',').map((c) => c.trim()))
  : null;
const ANNOUNCEMENTS = 400;
const SLUG = 'bench-feed';

interface Page {
  items: { id: string }[];
  nextCursor: string | null;
}

async function main(): Promise<void> {
  const world = await createWorld('feeds');
  const stops: (() => Promise<void>)[] = [];
  try {
    progress(`database ${world.databaseName}: seeding ${ANNOUNCEMENTS} announcements`);
    const organisations = await seedOrganisations(world.pool);
    const publisher = await seedPublisher(world.pool);
    const channelId = await seedChannel(world.pool, SLUG);
    await seedAnnouncements(world.pool, channelId, ANNOUNCEMENTS, {
      authorId: publisher.userId,
      limitedTo: organisations.get('UiO')!,
    });
    await world.pool.query('ANALYZE');

    const api = await startApi(world);
    stops.push(() => api.child.stop());
    const jsonPath = `/api/v1/channels/${SLUG}/announcements?limit=20`;
    const atomPath = `/feeds/channels/${SLUG}.atom`;

    // The pages as the product serves them: the in-memory baseline serves these very bytes.
    const json = await fetch(`${api.url}${jsonPath}`);
    const jsonBody = await json.text();
    const atom = await fetch(`${api.url}${atomPath}`);
    const atomBody = await atom.text();
    if (json.status !== 200 || atom.status !== 200) throw new Error(`product answered ${json.status}/${atom.status}`);
    const htmlPath = `/channels/${SLUG}`;
    const html = await fetch(`${api.url}${htmlPath}`, { headers: { accept: 'text/html' } });
    const htmlBody = await html.text();
    if (html.status !== 200) throw new Error(`the channel page answered ${html.status}`);
    const announcementPath = `/announcements/${(JSON.parse(jsonBody) as Page).items[0]!.id}`;
    const jsonEtag = json.headers.get('etag');
    const atomEtag = atom.headers.get('etag');

    // Older pages: pages 2–6 by their cursors, cycled through by every connection.
    const cursors: string[] = [];
    let page = JSON.parse(jsonBody) as Page;
    while (cursors.length < 5 && page.nextCursor) {
      cursors.push(page.nextCursor);
      const next = await fetch(`${api.url}${jsonPath}&cursor=${encodeURIComponent(page.nextCursor)}`);
      page = (await next.json()) as Page;
    }
    const olderPaths = cursors.map((cursor) => `${jsonPath}&cursor=${encodeURIComponent(cursor)}`);
    const baselineOlderPaths = cursors.map((cursor) => {
      const key = decodeAnnouncementCursor(cursor);
      return `/pg/page?at=${encodeURIComponent(key.publishedAt.toISOString())}&id=${key.id}`;
    });

    const dir = mkdtempSync(join(tmpdir(), 'mk-bench-feeds-'));
    writeFileSync(join(dir, 'page.json'), jsonBody);
    writeFileSync(join(dir, 'feed.atom'), atomBody);
    writeFileSync(join(dir, 'page.html'), htmlBody);
    const baselinePort = await freePort();
    const baseline = startNode('feed-baseline', 'bench/servers/feed-baseline.ts', {
      env: {
        PORT: String(baselinePort),
        DATABASE_URL: world.databaseUrl,
        CHANNEL_ID: channelId,
        MEMORY_PAGES: JSON.stringify({
          json: { file: join(dir, 'page.json'), type: json.headers.get('content-type') },
          atom: { file: join(dir, 'feed.atom'), type: atom.headers.get('content-type') },
          html: { file: join(dir, 'page.html'), type: html.headers.get('content-type') },
        }),
      },
    });
    stops.push(() => baseline.stop());
    const baselineUrl = `http://127.0.0.1:${baselinePort}`;
    await waitUntil(
      async () => (await fetch(`${baselineUrl}/hello`).catch(() => undefined))?.ok,
      'the baseline server',
      { child: baseline },
    );

    // The product lists exactly the rows the plain-pg baseline reads.
    const productIds = (JSON.parse(jsonBody) as Page).items.map((item) => item.id);
    const baselineIds = ((await (await fetch(`${baselineUrl}/pg/page`)).json()) as Page).items.map((item) => item.id);
    if (productIds.join() !== baselineIds.join()) {
      throw new Error(`the product's newest page and the plain-pg rows differ:\n${productIds}\n${baselineIds}`);
    }

    const load = (url: string, extra: Partial<LoadSpec> = {}) => ({
      url,
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      warmupSeconds: WARMUP_S,
      ...extra,
    });
    type Measured = LoadResult & { serverCpuUsPerRequest: number | null; dbCpuUsPerRequest: number | null };
    const results = new Map<string, Measured[]>();
    // PostgreSQL's CPU time for the run: the backends connected to the benchmark's own database (only the server
    // under load queries it during a run), read from /proc — null when PostgreSQL runs elsewhere. The product and
    // the plain-pg baseline share the machine's two cores with it, so a query that costs PostgreSQL more slows both
    // without showing in the server's own CPU time.
    const backendCpu = async (): Promise<Map<number, number | null>> => {
      const { rows } = await world.pool.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return new Map(rows.map((row) => [row.pid, cpuTimeOf(row.pid)]));
    };
    const measure = async (name: string, spec: LoadSpec, expect: number = 200) => {
      if (CASES && !CASES.has(name)) return;
      progress(`${name}: ${spec.overallRate ? `${spec.overallRate} req/s` : `${spec.connections} connections`}`);
      const server = spec.url.startsWith(api.url) ? api.child.pid : baseline.pid;
      const dbBefore = await backendCpu();
      const result = await runLoad(spec, expect, server);
      const dbAfter = await backendCpu();
      let dbMs: number | null = 0;
      for (const [pid, after] of dbAfter) {
        const before = dbBefore.get(pid) ?? 0;
        if (after === null || before === null) dbMs = null;
        else if (dbMs !== null) dbMs += after - before;
      }
      const dbCpuUsPerRequest = dbMs === null ? null : (dbMs * 1000) / result.allRequests;
      results.set(name, [...(results.get(name) ?? []), { ...result, dbCpuUsPerRequest }]);
    };

    for (let round = 0; round < ROUNDS; round += 1) {
      await measure('hello', load(`${baselineUrl}/hello`));
      await measure('memoryJson', load(`${baselineUrl}/memory/json`));
      await measure('json', load(`${api.url}${jsonPath}`));
      if (jsonEtag)
        await measure('json304', load(`${api.url}${jsonPath}`, { headers: { 'if-none-match': jsonEtag } }), 304);
      await measure('memoryAtom', load(`${baselineUrl}/memory/atom`));
      await measure('atom', load(`${api.url}${atomPath}`));
      if (atomEtag)
        await measure('atom304', load(`${api.url}${atomPath}`, { headers: { 'if-none-match': atomEtag } }), 304);
      // Anonymous readers' pages at their plain addresses are kept as finished HTML (src/web/page-cache.ts); the CSP
      // nonces stay per response, in the header.
      await measure('memoryHtml', load(`${baselineUrl}/memory/html`));
      await measure('html', load(`${api.url}${htmlPath}`, { headers: { accept: 'text/html' } }));
      await measure('htmlAnnouncement', load(`${api.url}${announcementPath}`, { headers: { accept: 'text/html' } }));
      await measure('pgNewest', load(`${baselineUrl}/pg/page`));
      await measure('pgOlder', load(baselineUrl, { paths: baselineOlderPaths }));
      await measure('older', load(api.url, { paths: olderPaths }));
      await measure('memoryJsonFixed', load(`${baselineUrl}/memory/json`, { overallRate: FIXED_RATE }));
      await measure('jsonFixed', load(`${api.url}${jsonPath}`, { overallRate: FIXED_RATE }));
      await measure('pgOlderFixed', load(baselineUrl, { paths: baselineOlderPaths, overallRate: FIXED_RATE }));
      await measure('olderFixed', load(api.url, { paths: olderPaths, overallRate: FIXED_RATE }));
    }
    if (api.child.process.exitCode !== null) throw new Error(`the API died\n${describeChild(api.child)}`);

    const rps = (name: string) => median((results.get(name) ?? []).map((r) => r.requestsPerSecond));
    const p99 = (name: string) => median((results.get(name) ?? []).map((r) => r.latencyMs.p99));
    // Server CPU time per request: independent of what else runs on the machine, unlike the rates.
    const cpu = (name: string) => median((results.get(name) ?? []).map((r) => r.serverCpuUsPerRequest ?? Number.NaN));
    const dbCpu = (name: string) => median((results.get(name) ?? []).map((r) => r.dbCpuUsPerRequest ?? Number.NaN));
    const targets = new Targets();
    targets.atLeast('newest JSON ≥ 0.9× in-memory', rps('json') / rps('memoryJson'), 0.9);
    targets.atLeast('newest Atom ≥ 0.9× in-memory', rps('atom') / rps('memoryAtom'), 0.9);
    if (jsonEtag) targets.atLeast('JSON 304 ≥ 0.6× hello-world', rps('json304') / rps('hello'), 0.6);
    else targets.checks.push({ name: 'JSON 304 ≥ 0.6× hello-world', met: false, detail: 'no ETag on the page' });
    if (atomEtag) targets.atLeast('Atom 304 ≥ 0.6× hello-world', rps('atom304') / rps('hello'), 0.6);
    else targets.checks.push({ name: 'Atom 304 ≥ 0.6× hello-world', met: false, detail: 'no ETag on the feed' });
    targets.atLeast('channel HTML page ≥ 0.9× in-memory', rps('html') / rps('memoryHtml'), 0.9);
    targets.atLeast('older page ≥ 0.7× plain pg', rps('older') / rps('pgOlder'), 0.7);
    targets.atMost(`newest p99 at ${FIXED_RATE}/s ≤ 2× in-memory`, p99('jsonFixed') / p99('memoryJsonFixed'), 2);
    targets.atMost(`older p99 at ${FIXED_RATE}/s ≤ 2× plain pg`, p99('olderFixed') / p99('pgOlderFixed'), 2);

    summarise(
      'feeds',
      {
        helloRps: rps('hello'),
        memoryJsonRps: rps('memoryJson'),
        jsonRps: rps('json'),
        jsonVsMemory: ratio(rps('json'), rps('memoryJson')),
        json304Rps: jsonEtag ? rps('json304') : null,
        json304VsHello: jsonEtag ? ratio(rps('json304'), rps('hello')) : null,
        memoryAtomRps: rps('memoryAtom'),
        atomRps: rps('atom'),
        atomVsMemory: ratio(rps('atom'), rps('memoryAtom')),
        atom304Rps: atomEtag ? rps('atom304') : null,
        atom304VsHello: atomEtag ? ratio(rps('atom304'), rps('hello')) : null,
        memoryHtmlRps: rps('memoryHtml'),
        htmlRps: rps('html'),
        htmlVsMemory: ratio(rps('html'), rps('memoryHtml')),
        htmlAnnouncementRps: rps('htmlAnnouncement'),
        pgNewestRps: rps('pgNewest'),
        jsonVsPgNewest: ratio(rps('json'), rps('pgNewest')),
        pgOlderRps: rps('pgOlder'),
        olderRps: rps('older'),
        olderVsPg: ratio(rps('older'), rps('pgOlder')),
        memoryJsonP99Ms: p99('memoryJsonFixed'),
        jsonP99Ms: p99('jsonFixed'),
        jsonP99VsMemory: ratio(p99('jsonFixed'), p99('memoryJsonFixed')),
        pgOlderP99Ms: p99('pgOlderFixed'),
        olderP99Ms: p99('olderFixed'),
        olderP99VsPg: ratio(p99('olderFixed'), p99('pgOlderFixed')),
        cpuUsHello: cpu('hello'),
        cpuUsMemoryJson: cpu('memoryJson'),
        cpuUsJson: cpu('json'),
        cpuUsJson304: jsonEtag ? cpu('json304') : null,
        cpuUsMemoryAtom: cpu('memoryAtom'),
        cpuUsAtom: cpu('atom'),
        cpuUsAtom304: atomEtag ? cpu('atom304') : null,
        // The server's CPU time per page: what rendering one costs, reads and template together.
        cpuUsMemoryHtml: cpu('memoryHtml'),
        cpuUsHtml: cpu('html'),
        cpuUsHtmlAnnouncement: cpu('htmlAnnouncement'),
        cpuUsPgOlder: cpu('pgOlder'),
        cpuUsOlder: cpu('older'),
        // PostgreSQL's CPU time per request of the same runs (see backendCpu).
        dbCpuUsPgOlder: dbCpu('pgOlder'),
        dbCpuUsOlder: dbCpu('older'),
        connections: CONNECTIONS,
        seconds: DURATION_S,
      },
      targets,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await world.close();
  }
}

await main();
