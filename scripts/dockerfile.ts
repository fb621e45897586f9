/**
 * A reader of the project's Dockerfile and .dockerignore, for scripts/docker-steps.ts (which runs the image's steps
 * without a Docker engine) and tests/unit/dockerfile.test.ts.
 *
 * It understands the subset of the Dockerfile syntax the project uses, and REFUSES everything else (an unknown
 * instruction, a COPY flag, a wildcard source): a step it cannot reproduce faithfully must stop the check, never be
 * skipped, or a broken image could pass it.
 */

export type Instruction =
  | { kind: 'ARG'; name: string; default: string | undefined; line: number }
  | { kind: 'FROM'; image: string; as: string | undefined; line: number }
  | { kind: 'WORKDIR'; path: string; line: number }
  | { kind: 'ENV'; vars: Record<string, string>; line: number }
  | { kind: 'COPY'; from: string | undefined; sources: string[]; dest: string; line: number }
  | { kind: 'RUN'; command: string[]; shell: boolean; line: number }
  | { kind: 'USER'; user: string; line: number }
  | { kind: 'EXPOSE'; ports: string[]; line: number }
  | { kind: 'HEALTHCHECK'; options: Record<string, string>; command: string[]; line: number }
  | { kind: 'CMD'; command: string[]; line: number };

export interface Stage {
  /** The FROM image: a base image, or the name of an earlier stage. */
  from: string;
  name: string | undefined;
  /** The instructions after FROM, in order. */
  steps: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM (usable in FROM lines), with their defaults. */
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

export class DockerfileError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `Dockerfile line ${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

/** Logical lines (continuations joined, comments and blank lines dropped), each with the number of its first line. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: string | undefined;
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines are dropped even inside a continuation, as Docker does.
    if (trimmed.startsWith('#') || (trimmed === '' && current === undefined)) return;
    if (current === undefined) start = index + 1;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1) : trimmed;
    current = current === undefined ? piece : `${current} ${piece}`;
    if (!continued) {
      out.push({ text: current.trim(), line: start });
      current = undefined;
    }
  });
  if (current !== undefined) out.push({ text: current.trim(), line: start });
  return out;
}

/** Splits on whitespace, keeping "double" and 'single' quoted parts together (quotes removed). */
function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new Error('unterminated quote');
  if (inWord) out.push(word);
  return out;
}

/** The exec form (`["node", "x.js"]`) as its argument list, or undefined for the shell form. */
function execForm(text: string, line: number): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DockerfileError(`not a JSON array: ${text}`, line);
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string') || parsed.length === 0) {
    throw new DockerfileError(`the exec form must be a non-empty array of strings: ${text}`, line);
  }
  return parsed;
}

function flags(parts: string[], allowed: string[], line: number): { flags: Record<string, string>; rest: string[] } {
  const found: Record<string, string> = {};
  let index = 0;
  for (; index < parts.length && parts[index]!.startsWith('--'); index += 1) {
    const [name, ...value] = parts[index]!.slice(2).split('=');
    if (!allowed.includes(name!)) {
      throw new DockerfileError(`flag --${name} is not supported by scripts/docker-steps.ts`, line);
    }
    found[name!] = value.join('=');
  }
  return { flags: found, rest: parts.slice(index) };
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  for (const { text: logical, line } of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/s.exec(logical)!;
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!;
    const stage = stages.at(-1);
    const add = (instruction: Instruction) => {
      if (!stage) throw new DockerfileError(`${keyword} before the first FROM`, line);
      stage.steps.push(instruction);
    };
    switch (keyword) {
      case 'ARG': {
        const [name, ...value] = rest.split('=');
        const arg = { kind: 'ARG', name: name!.trim(), default: value.length ? value.join('=') : undefined, line };
        if (stage) stage.steps.push(arg as Instruction);
        else globalArgs[arg.name] = arg.default;
        break;
      }
      case 'FROM': {
        const { rest: parts } = flags(words(rest), [], line);
        if (parts.length !== 1 && !(parts.length === 3 && parts[1]!.toUpperCase() === 'AS')) {
          throw new DockerfileError(`FROM <image> [AS <name>] expected: ${rest}`, line);
        }
        stages.push({ from: parts[0]!, name: parts[2], steps: [] });
        break;
      }
      case 'WORKDIR':
        add({ kind: 'WORKDIR', path: rest.trim(), line });
        break;
      case 'ENV': {
        const vars: Record<string, string> = {};
        for (const word of words(rest)) {
          const at = word.indexOf('=');
          if (at <= 0) throw new DockerfileError(`ENV needs NAME=value pairs: ${word}`, line);
          vars[word.slice(0, at)] = word.slice(at + 1);
        }
        add({ kind: 'ENV', vars, line });
        break;
      }
      case 'COPY': {
        const exec = execForm(rest, line);
        const { flags: given, rest: parts } = exec ? { flags: {}, rest: exec } : flags(words(rest), ['from'], line);
        if (parts.length < 2) throw new DockerfileError('COPY needs a source and a destination', line);
        const sources = parts.slice(0, -1);
        const dest = parts.at(-1)!;
        for (const source of sources) {
          if (/[*?[]/.test(source)) throw new DockerfileError(`wildcard sources are not supported: ${source}`, line);
        }
        if (sources.length > 1 && !dest.endsWith('/')) {
          throw new DockerfileError('COPY of several sources needs a destination ending in /', line);
        }
        add({ kind: 'COPY', from: given.from, sources, dest, line });
        break;
      }
      case 'RUN': {
        const exec = execForm(rest, line);
        add({ kind: 'RUN', command: exec ?? [rest], shell: !exec, line });
        break;
      }
      case 'USER':
        add({ kind: 'USER', user: rest.trim(), line });
        break;
      case 'EXPOSE':
        add({ kind: 'EXPOSE', ports: words(rest), line });
        break;
      case 'HEALTHCHECK': {
        const at = rest.search(/\bCMD\b/);
        if (at === -1) throw new DockerfileError('HEALTHCHECK without CMD', line);
        const { flags: options, rest: leftover } = flags(
          words(rest.slice(0, at)),
          ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
          line,
        );
        if (leftover.length > 0) throw new DockerfileError(`unexpected HEALTHCHECK words: ${leftover.join(' ')}`, line);
        const commandText = rest.slice(at + 3).trim();
        add({
          kind: 'HEALTHCHECK',
          options,
          command: execForm(commandText, line) ?? ['/bin/sh', '-c', commandText],
          line,
        });
        break;
      }
      case 'CMD':
        add({ kind: 'CMD', command: execForm(rest, line) ?? ['/bin/sh', '-c', rest], line });
        break;
      default:
        throw new DockerfileError(`instruction ${keyword} is not supported by scripts/docker-steps.ts`, line);
    }
  }
  if (stages.length === 0) throw new DockerfileError('no FROM');
  return { globalArgs, stages };
}

/** Replaces `${NAME}` and `$NAME` with their values; an unknown name is an error (Docker would leave it empty). */
export function substitute(text: string, vars: Record<string, string | undefined>, line?: number): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_all, braced, bare) => {
    const name = (braced ?? bare) as string;
    const value = vars[name];
    if (value === undefined) throw new DockerfileError(`\${${name}} has no value`, line);
    return value;
  });
}

/**
 * .dockerignore as a predicate on context-relative paths (forward slashes). Supported: names and paths (`dist`,
 * `src/generated`), `*` and `?` within one path segment, `**` across segments, a trailing `/`. A path is ignored when
 * it or one of its parent directories matches, as with Docker. Exceptions (`!…`) are refused.
 */
export function parseDockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      if (line.startsWith('!')) throw new DockerfileError(`.dockerignore exceptions are not supported: ${line}`);
      const clean = line.replace(/^\/+/, '').replace(/\/+$/, '');
      let source = '';
      for (let i = 0; i < clean.length; i += 1) {
        const char = clean[i]!;
        if (char === '*' && clean[i + 1] === '*') {
          source += '.*';
          i += 1;
          if (clean[i + 1] === '/') i += 1;
        } else if (char === '*') source += '[^/]*';
        else if (char === '?') source += '[^/]';
        else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return new RegExp(`^${source}$`);
    });
  return (path: string) => {
    const segments = path.split('/');
    for (let end = 1; end <= segments.length; end += 1) {
      const prefix = segments.slice(0, end).join('/');
      if (patterns.some((pattern) => pattern.test(prefix))) return true;
    }
    return false;
  };
}
