/** The known-XSS corpus in tests/fixtures/xss-vectors.txt: one vector per line, `#` lines are comments. */
import { readFileSync } from 'node:fs';

const PLACEHOLDERS: Record<string, string> = { '{NL}': '\n', '{CR}': '\r', '{TAB}': '\t', '{NUL}': '\u0000' };

/** The vectors, with the placeholders {NL}, {CR}, {TAB} and {NUL} replaced by the characters they stand for. */
export function loadXssVectors(): string[] {
  return readFileSync(new URL('../fixtures/xss-vectors.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/\{NL\}|\{CR\}|\{TAB\}|\{NUL\}/g, (placeholder) => PLACEHOLDERS[placeholder]!));
}
