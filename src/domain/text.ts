/**
 * Input hygiene: which characters a piece of text from outside may hold, by the kind of field it is. Pure, and the
 * one home of these rules: the HTTP schemas (the `x-text` keyword in src/http/validation.ts), the request parsers
 * and header checks (src/http/plugins/input-hygiene.ts) and the WebSocket frame parser (src/realtime/protocol.ts)
 * all ask here.
 *
 * Why refuse rather than strip: a NUL makes PostgreSQL refuse the row (a 500 after validation passed), a lone
 * surrogate cannot be written as UTF-8 at all (json columns, e-mail, feeds), a CR/LF in a title ends up in an e-mail
 * header or a log line, and a right-to-left override makes `exe.pdf` display as `fdp.exe`. Silently changing what
 * someone sent hides the problem from them; a 400 that names the field and the character lets them fix it.
 *
 * The kinds:
 * - `identifier` — machine values (slugs, codes, keys, cursors, tokens, URLs): no control characters of any kind,
 *   no line breaks, no invisible formatting characters (zero-width, bidi controls, soft hyphen). Never rewritten.
 * - `title` — titles and names: one line, and no bidi override, embedding or isolate controls.
 * - `line` — other single-line text (summaries, search queries, filenames): one line.
 * - `multiline` — text with line breaks (bodies, descriptions, notes): tab, LF and CR allowed.
 * - `email` — e-mail addresses: parseAddress (src/services/email-subscriptions.ts) checks them, refusing control
 *   characters and anything that is not an address with a reason per address (an import reports each line).
 *
 * Text of the kinds title, line and multiline is NFC-normalised (one spelling of "ø" whatever the keyboard sent), and
 * a value that holds only white space and invisible characters counts as empty.
 */

export const TEXT_KINDS = ['identifier', 'title', 'line', 'multiline', 'email'] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

export function isTextKind(value: unknown): value is TextKind {
  return typeof value === 'string' && (TEXT_KINDS as readonly string[]).includes(value);
}

/** `U+202E`: how a refused character is named in messages (the character itself is never echoed). */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Tab, LF, CR, and Unicode's line and paragraph separators (U+0085 NEL is a C1 control, refused everywhere). */
const LINE_BREAK_OR_TAB = /[\t\n\r\u2028\u2029]/;
/** Bidi embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069). Marks (LRM, RLM, ALM) stay allowed. */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
/** Invisible formatting characters: zero-width ones, bidi controls and marks, soft hyphen, BOM, tags… */
const FORMAT_CHARACTER = /\p{Cf}/u;
/** What counts as nothing: white space and characters that are not displayed (Braille blank included: it looks blank). */
const INVISIBLE = /[\s\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]/gu;

function found(pattern: RegExp, value: string): number | null {
  const match = pattern.exec(value);
  return match ? match[0].codePointAt(0)! : null;
}

/**
 * What is wrong with `value` as text of `kind`, as a message for the field (`must not contain …`), or null when it
 * may be used. Blankness is not checked here (see isBlankText): whether empty is allowed depends on the field.
 */
export function textProblem(value: string, kind: TextKind): string | null {
  if (kind === 'email') return null;
  const surrogate = found(LONE_SURROGATE, value);
  if (surrogate !== null)
    return `must be valid Unicode text (it holds an unpaired surrogate, ${codePointLabel(surrogate)})`;
  const control = found(CONTROL, value);
  if (control !== null) return `must not contain control characters (it holds ${codePointLabel(control)})`;
  if (kind === 'multiline') return null;
  const lineBreak = found(LINE_BREAK_OR_TAB, value);
  if (lineBreak !== null) {
    return `must be a single line, without line breaks or tabs (it holds ${codePointLabel(lineBreak)})`;
  }
  if (kind === 'title') {
    const bidi = found(BIDI_CONTROL, value);
    if (bidi !== null) {
      return `must not contain bidirectional override or isolate controls (it holds ${codePointLabel(bidi)})`;
    }
  }
  if (kind === 'identifier') {
    const invisible = found(FORMAT_CHARACTER, value);
    if (invisible !== null) return `must not contain invisible characters (it holds ${codePointLabel(invisible)})`;
  }
  return null;
}

/** Whether the text is empty once white space and invisible characters (zero-width, bidi controls…) are left out. */
export function isBlankText(value: string): boolean {
  return value.replace(INVISIBLE, '').length === 0;
}

/** Whether text of this kind is NFC-normalised (identifiers and addresses are kept exactly as sent). */
export function isNormalised(kind: TextKind): boolean {
  return kind === 'title' || kind === 'line' || kind === 'multiline';
}

/**
 * The text as it is stored: NFC for the normalised kinds; a blank value becomes '' (it counts as empty). Call only on
 * text that textProblem accepted.
 */
export function normaliseText(value: string, kind: TextKind): string {
  if (!isNormalised(kind)) return value;
  if (isBlankText(value)) return '';
  return value.normalize('NFC');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The bytes as text when they are well-formed UTF-8, else null. Node's own decoding (Buffer#toString, the HTTP
 * parsers) replaces malformed sequences with U+FFFD, which would turn garbage into text nobody sent.
 */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
