/**
 * The top self-time functions of a V8 CPU profile (`node --cpu-prof`; BENCH_CPU_PROF=1 makes the benchmarks' product
 * processes write them to bench/profiles/). Self time is the time spent in the function's own code, not in what it
 * calls: the place to look first.
 *
 *   npx tsx bench/profile-top.ts bench/profiles/api-<time>.cpuprofile [count]
 *
 * Also prints the self time summed per package (node_modules/<name>) or project folder, which says at a glance whether
 * the time goes to our code, a library, or the runtime (GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const project = /\/(src|workers|bench)\/([^/]+)/.exec(url);
  if (project) return `${project[1]}/${project[2]}`;
  if (url.startsWith('node:')) return 'node';
  return url === '' ? '(runtime)' : url;
}

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx bench/profile-top.ts <file.cpuprofile> [count]');
  const count = Number(process.argv[3] ?? 30);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i]!;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|src|workers|bench)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byPlace.set(where(url), (byPlace.get(where(url)) ?? 0) + ms);
    total += ms;
  }
  const busy = total - (byFunction.get('(idle) :0') ?? 0);
  console.log(`total ${Math.round(total)} ms, busy ${Math.round(busy)} ms`);
  const top = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, ms]) => `${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(6)} ms  ${name}`)
      .join('\n');
  console.log('\nself time by function (% of busy time):');
  console.log(top(byFunction));
  console.log('\nself time by package / folder:');
  console.log(top(byPlace));
}

main();
