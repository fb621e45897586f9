/**
 * The Dockerfile as scripts/docker-steps.ts reads it (scripts/dockerfile.ts): the project's own file parses with no
 * instruction left out, keeps the image's promises (non-root USER, `node` as the command, production dependencies
 * only), and every COPY names something the build context really holds. The reader refuses what it cannot reproduce.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerfileError, type Instruction, parseDockerfile, parseDockerignore } from '../../scripts/dockerfile.js';
import { PROJECT_ROOT } from '../../src/paths.js';

const dockerfile = parseDockerfile(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));
const ignored = parseDockerignore(readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8'));
const steps = <K extends Instruction['kind']>(stage: number, kind: K) =>
  dockerfile.stages[stage]!.steps.filter((s): s is Extract<Instruction, { kind: K }> => s.kind === kind);

describe("the project's Dockerfile", () => {
  it('has a deps, a build and a runtime stage; the runtime runs node as a non-root user', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['deps', 'build', 'runtime']);
    const runtime = dockerfile.stages.length - 1;
    const [user] = steps(runtime, 'USER');
    expect(user?.user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.user);
    const [cmd] = steps(runtime, 'CMD');
    // npm does not forward SIGTERM: the graceful drain needs node itself as the command.
    expect(cmd!.command[0]).toBe('node');
    expect(cmd!.command[1]).toMatch(/^dist\/.+\.js$/);
    expect(steps(runtime, 'RUN').map((r) => r.command.join(' '))).toContainEqual(
      expect.stringMatching(/npm ci --omit=dev --ignore-scripts/),
    );
    expect(steps(runtime, 'HEALTHCHECK')).toHaveLength(1);
  });

  it('copies only what the build context holds (present, and not excluded by .dockerignore)', () => {
    for (const [index, stage] of dockerfile.stages.entries()) {
      for (const copy of steps(index, 'COPY')) {
        if (copy.from) {
          expect(dockerfile.stages.slice(0, index).map((s) => s.name)).toContain(copy.from);
          continue;
        }
        for (const source of copy.sources) {
          if (source === '.') continue;
          expect(existsSync(join(PROJECT_ROOT, source)), `${stage.name}: COPY ${source}`).toBe(true);
          expect(ignored(source), `${stage.name}: COPY ${source} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('leaves dependencies, build output and the generated client out of the build context', () => {
    for (const path of ['node_modules/fastify/package.json', 'dist/src/main.js', 'src/generated/prisma/client.ts']) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of ['src/main.ts', 'prisma/migrations', 'package-lock.json', 'src/db/node_modules']) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

describe('the Dockerfile reader', () => {
  it('joins continued lines, drops comments inside them, and reads ENV pairs and exec forms', () => {
    const parsed = parseDockerfile(
      [
        'ARG BASE=node:24',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a template
        'FROM ${BASE} AS one',
        'ENV A=1 \\',
        '    # a comment in the middle',
        '    B="two words"',
        'RUN echo a && \\',
        '    echo b',
        'CMD ["node", "x.js"]',
      ].join('\n'),
    );
    expect(parsed.globalArgs).toEqual({ BASE: 'node:24' });
    expect(parsed.stages[0]!.steps).toEqual([
      { kind: 'ENV', vars: { A: '1', B: 'two words' }, line: 3 },
      { kind: 'RUN', command: ['echo a &&  echo b'], shell: true, line: 6 },
      { kind: 'CMD', command: ['node', 'x.js'], line: 8 },
    ]);
  });

  it('refuses instructions, flags and sources it cannot reproduce', () => {
    expect(() => parseDockerfile('FROM x\nADD a.tgz /')).toThrow(DockerfileError);
    expect(() => parseDockerfile('FROM x\nCOPY --chown=node a /')).toThrow(/--chown is not supported/);
    expect(() => parseDockerfile('FROM x\nCOPY src/*.ts /')).toThrow(/wildcard/);
    expect(() => parseDockerfile('FROM x\nCOPY a b /dest')).toThrow(/ending in \//);
    expect(() => parseDockerignore('dist\n!dist/keep')).toThrow(/exceptions/);
  });
});
