/** Runs bench/lib/load-client.ts (autocannon) in a separate process and returns its result. */
import type { LoadResult, LoadSpec } from './load-client.js';
import { cpuTimeOf, describeChild, startNode } from './processes.js';

export type { LoadResult, LoadSpec };

/**
 * One bounded load run. Fails when the client could not finish, and when any response had another status than the
 * `expect`ed one (a benchmark of 404s or 429s would measure the wrong thing).
 */
export async function runLoad(
  spec: LoadSpec,
  expect: number | number[] = 200,
  /** The server process: its CPU time per request over the whole run is added (load-independent, unlike rates). */
  serverPid?: number,
): Promise<LoadResult & { serverCpuUsPerRequest: number | null }> {
  const cpuBefore = serverPid === undefined ? null : cpuTimeOf(serverPid);
  const client = startNode('load', 'bench/lib/load-client.ts', { args: [JSON.stringify(spec)] });
  let result: LoadResult | undefined;
  client.onLine((line) => {
    if (line.startsWith('{')) result = JSON.parse(line) as LoadResult;
  });
  const code = await client.exited;
  if (code !== 0 || !result) throw new Error(`the load client failed\n${describeChild(client)}`);
  const expected = new Set((Array.isArray(expect) ? expect : [expect]).map(String));
  const unexpected = Object.entries(result.statusCodes).filter(([status]) => !expected.has(status));
  if (unexpected.length > 0 || result.errors > 0) {
    throw new Error(
      `${spec.method ?? 'GET'} ${spec.url}: unexpected answers ${JSON.stringify(Object.fromEntries(unexpected))}, ` +
        `${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  if (result.total === 0) throw new Error(`${spec.url}: no request completed`);
  const cpuAfter = serverPid === undefined ? null : cpuTimeOf(serverPid);
  const serverCpuUsPerRequest =
    cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / result.allRequests;
  return { ...result, serverCpuUsPerRequest };
}
