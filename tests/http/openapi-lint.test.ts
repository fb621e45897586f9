/**
 * The generated OpenAPI document against a maintained linter: Redocly CLI with its `recommended` rules (redocly.yaml
 * at the project root, where each exception says why). Every error and every warning fails the test. The CLI runs as
 * a child process on the document written to a temporary file, as an integrator or CI would run it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

const run = promisify(execFile);
const REDOCLY = join(PROJECT_ROOT, 'node_modules/@redocly/cli/bin/cli.js');
const CONFIG = join(PROJECT_ROOT, 'redocly.yaml');

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

let ctx: TestContext;
let app: FastifyInstance;
let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document edited generically
let doc: any;

/** Lints `document` with the project's configuration; the findings the configuration does not switch off. */
async function lint(document: unknown, name: string): Promise<Problem[]> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(document));
  // Exit code 1 means "problems found": the JSON report on stdout says which, so it is read either way.
  const result = await run(process.execPath, [REDOCLY, 'lint', '--config', CONFIG, '--format=json', file], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
    if (error.code === 1 && error.stdout) return { stdout: error.stdout, stderr: error.stderr ?? '' };
    throw new Error(`redocly lint failed to run (exit ${error.code}): ${error.stderr}`);
  });
  const report = JSON.parse(result.stdout) as { problems: (Problem & { ignored?: boolean })[] };
  return report.problems.filter((problem) => !problem.ignored);
}

const describeProblems = (problems: Problem[]) =>
  problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`).join('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.org' });
  app = await buildApp(ctx.deps, { logger: false });
  const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  doc = response.json();
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('redocly lint (recommended rules) on GET /api/openapi.json', () => {
  it('finds no error and no warning', async () => {
    const problems = await lint(doc, 'openapi');
    expect(problems, describeProblems(problems)).toEqual([]);
  });

  it('does fail the document: an operation without operationId, two sharing one, a public one without security', async () => {
    const broken = structuredClone(doc);
    const createChannel = broken.paths['/api/v1/channels'].post;
    const listChannels = broken.paths['/api/v1/channels'].get;
    delete createChannel.operationId;
    broken.paths['/api/v1/channels/{slug}'].get.operationId = listChannels.operationId;
    delete broken.paths['/healthz'].get.security;
    // Where each finding of these rules is, down to the operation (whatever else the document has is the first test's).
    const rules = ['operation-operationId', 'operation-operationId-unique', 'security-defined'];
    const found = (await lint(broken, 'broken'))
      .filter((p) => rules.includes(p.ruleId))
      .map((p) => `${p.ruleId} ${p.location[0]?.pointer.split('/').slice(0, 4).join('/')}`);
    expect(found.sort()).toEqual([
      'operation-operationId #/paths/~1api~1v1~1channels/post',
      'operation-operationId-unique #/paths/~1api~1v1~1channels~1{slug}/get',
      'security-defined #/paths/~1healthz/get',
    ]);
  });

  it('takes every recommended rule except the exceptions the configuration names, each with its reason', () => {
    const config = readFileSync(CONFIG, 'utf8');
    expect(config).toMatch(/^extends:\n {2}- recommended$/m);
    // Each rule switched off or down is preceded by a comment, its reason.
    const lines = config.split('\n');
    const exceptions = lines.flatMap((line, i) => {
      const rule = /^ {2}([\w/-]+): (off|warn)$/.exec(line);
      return rule ? [{ rule: rule[1], reason: lines[i - 1]?.trim() ?? '' }] : [];
    });
    expect(exceptions.map((e) => e.rule)).toEqual(['info-license', 'operation-2xx-response', 'no-unused-components']);
    for (const { rule, reason } of exceptions) expect(reason, rule).toMatch(/^# \S/);
  });
});
