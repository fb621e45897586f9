/**
 * Announcement bodies: Markdown in, sanitised HTML and readable plain text out. Pure: no I/O, no framework imports.
 * The same HTML serves the web pages, the widget, the feeds and the e-mails; the plain text is the e-mails' text part.
 *
 * Dialect: CommonMark plus GitHub's tables, strikethrough and autolink literals (`https://…`, `www.…`, e-mail
 * addresses). Task lists and footnotes are not supported; `[ ]` stays literal text.
 *
 * Why markdown-it: it passes the CommonMark spec, has GFM tables and strikethrough built in, exposes the token stream
 * (one parse serves both the HTML and the plain text), lets every URL be vetted before it becomes a link
 * (`validateLink`), and caps nesting (`maxNesting`). micromark (the reference GFM implementation) was measured too:
 * it needed minutes on a 20,000-line nested list, which markdown-it renders in milliseconds.
 *
 * Decisions:
 * - Raw HTML in the source is STRIPPED, not rendered and not shown: tags and comments are removed and the text between
 *   them is kept (`a <b>bold</b> word` → "a bold word"); the content of `<script>` and `<style>` is removed as well.
 *   Announcements are often pasted from editors that leave markup behind, and readers should see neither the markup
 *   nor its effect. A consequence: an author who types a tag-like `<fredag>` loses it; `a < b` and code are kept.
 * - `#` headings become `h2` (the announcement title is the page's h1); h2–h6 stay as they are.
 * - Links and images are vetted by the rules in sanitize.ts (absolute http/https/mailto; images https only). A link
 *   whose URL is refused is left as the literal Markdown text; an image whose source is refused becomes its alt text.
 *   `www.` autolinks get `https://` (GitHub uses `http://`; the member institutions' sites all serve HTTPS).
 * - A single line break in a paragraph is kept as a line break (`<br>`), as the plain-text bodies before Markdown
 *   and GitHub's comments do: the authors are project leads typing into a text field, not Markdown experts.
 *   CommonMark allows this ("a renderer may also provide an option to render soft line breaks as hard line breaks").
 * - Size: sources longer than MARKDOWN_MAX_SOURCE_LENGTH are cut to it (the API refuses longer bodies with a clear
 *   error; the cut only protects the renderer). Nesting deeper than MARKDOWN_MAX_NESTING block levels (a list item is
 *   two levels, a quote one) is cut too: the deeper content is left out, and inline markup deeper than that is shown
 *   as text. Lone UTF-16 surrogates become U+FFFD.
 *
 * Stability ("rendering its own output changes nothing"): the output of renderMarkdown is a fixed point of the
 * sanitiser, `sanitizeHtml(renderMarkdown(x)) === renderMarkdown(x)` for every `x`. (Feeding the HTML back in as
 * Markdown is not meant: HTML is not Markdown source, and raw HTML in a source is stripped.) The property tests in
 * tests/unit/markdown-property.test.ts check this, that nothing throws, and that no executable HTML comes out.
 */
import markdownIt, { type Env, type MarkdownIt, type StateCore, type Token } from 'markdown-it';
import { TextMemo } from './memo.js';
import { renderTokensAsPlainText } from './plain-text.js';
import { isAllowedImageUrl, isAllowedLinkUrl, LINK_REL, sanitizeHtml } from './sanitize.js';

export { isAllowedImageUrl, isAllowedLinkUrl, sanitizeHtml } from './sanitize.js';

/** Longest source rendered (UTF-16 code units); the API should refuse longer bodies with this limit in the message. */
export const MARKDOWN_MAX_SOURCE_LENGTH = 100_000;

/** Deepest block nesting rendered; deeper content is left out. */
export const MARKDOWN_MAX_NESTING = 32;

const markdown = createMarkdownParser();

export interface RenderOptions {
  /**
   * `inline` (the default) shows images. `link` turns each image into a link to it, labelled with its alt text: for
   * e-mails, where loading a remote image tells its host who opened the message and when (a tracking pixel in all
   * but name).
   */
  images?: 'inline' | 'link';
}

/** Passed to the renderer rules as markdown-it's `env`. */
interface RenderEnv extends Env {
  imagesAsLinks?: boolean;
}

/**
 * Renders an announcement body to sanitised HTML (see the module comment for the dialect and the policy).
 * Never throws; the result is a fixed point of {@link sanitizeHtml}.
 */
export function renderMarkdown(source: string, options: RenderOptions = {}): string {
  return options.images === 'link'
    ? renderedWithImageLinks.get(source, (text) => renderHtml(text, true))
    : rendered.get(source, (text) => renderHtml(text, false));
}

function renderHtml(source: string, imagesAsLinks: boolean): string {
  const tokens = parse(source);
  const env: RenderEnv = { imagesAsLinks };
  return sanitizeHtml(markdown.renderer.render(tokens, markdown.options, env));
}

/**
 * Recent results of each renderer (src/content/memo.ts): every reader of a body gets the same output, so a listing
 * page, a feed or a fan-out to 100,000 addresses renders each body once instead of once per reader. 4 M characters
 * each (at most about 8 MB apiece, a few thousand bodies).
 */
const MEMO_CHARS = 4_000_000;
const rendered = new TextMemo(MEMO_CHARS);
const renderedWithImageLinks = new TextMemo(MEMO_CHARS);
const renderedAsPlainText = new TextMemo(MEMO_CHARS);

/**
 * Renders an announcement body as plain text for the text part of an e-mail: paragraphs separated by blank lines,
 * headings underlined, list items as `- ` or `1. `, quotes as `> `, code indented by four spaces, links as
 * `text (url)`, tables as aligned columns. The renderer adds no markup of its own and raw HTML is stripped as in
 * {@link renderMarkdown}; characters the author typed as text or code (`a < b`) are kept as they are, which is safe
 * in a text/plain part. Never throws.
 */
export function renderPlainText(source: string): string {
  return renderedAsPlainText.get(source, (text) => renderTokensAsPlainText(parse(text)));
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes plain text (titles, summaries) for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function parse(source: string): Token[] {
  return markdown.parse(prepareSource(source), {});
}

/** Cuts to the size limit without splitting a surrogate pair, and replaces lone surrogates with U+FFFD. */
function prepareSource(source: string): string {
  const text = source.length > MARKDOWN_MAX_SOURCE_LENGTH ? source.slice(0, MARKDOWN_MAX_SOURCE_LENGTH) : source;
  // A high surrogate left alone by the cut becomes U+FFFD like any other lone surrogate. (String#toWellFormed does
  // this too, but is not in the ES2023 library this project compiles against.)
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function createMarkdownParser(): MarkdownIt {
  const md = markdownIt('default', {
    // Raw HTML is parsed (so that applyContentPolicy can recognise and strip it), never rendered.
    html: true,
    linkify: true,
    typographer: false,
    breaks: true,
    maxNesting: MARKDOWN_MAX_NESTING,
  });
  md.validateLink = isAllowedLinkUrl;

  // GFM autolink literals: http(s)://, mailto: and bare e-mail addresses are linkify-it's own; `www.` is added below.
  // ftp: and protocol-relative `//host` are not GFM and would be refused by the URL rules anyway.
  md.linkify.add('ftp:', null).add('//', null);
  md.linkify.add('www.', {
    validate: (text, pos) => wwwAutolinkTailLength(text, pos),
    normalize: (match) => {
      match.url = `https://${match.url}`;
    },
  });

  md.core.ruler.push('meldingskanal_policy', applyContentPolicy);

  // Images were vetted by applyContentPolicy (https only); as links they get the sanitiser's rel like any other link.
  const renderImage = md.renderer.rules.image!;
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    if (!(env as RenderEnv | undefined)?.imagesAsLinks) return renderImage(tokens, idx, options, env, self);
    const token = tokens[idx]!;
    const src = String(token.attrGet('src') ?? '');
    const label = self.renderInlineAsText(token.children ?? [], options, env ?? {}) || src;
    return `<a href="${escapeHtml(src)}">${escapeHtml(label)}</a>`;
  };

  // Defence in depth: applyContentPolicy removes these tokens; if one ever slipped through, it would still render as nothing.
  md.renderer.rules.html_block = () => '';
  md.renderer.rules.html_inline = () => '';
  return md;
}

/** Characters GFM trims from the end of an autolink literal. */
const TRAILING_PUNCTUATION = new Set(['?', '!', '.', ',', ':', '*', '_', '~']);
const DOMAIN = /^[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+/u;
const UNTIL_SPACE_OR_LT = /^[^\s<]*/u;
const TRAILING_ENTITY = /&[A-Za-z0-9]+;$/;

/**
 * GFM's extended www autolink: after `www.`, a domain with at least one more dot (no underscore in its last two
 * labels), then anything up to whitespace or `<`, minus trailing punctuation, an unbalanced `)` and a trailing
 * entity-like `&…;`. Returns the length after `www.`, or 0 for no link.
 */
export function wwwAutolinkTailLength(text: string, pos: number): number {
  // Bounded look-ahead: linkify-it calls this at every `www.`, and no real address is longer.
  let link = UNTIL_SPACE_OR_LT.exec(text.slice(pos, pos + 2048))![0];
  const opening = count(link, '(');
  let closing = count(link, ')');
  for (;;) {
    const last = link.at(-1);
    if (last !== undefined && TRAILING_PUNCTUATION.has(last)) {
      link = link.slice(0, -1);
    } else if (last === ')' && opening < closing) {
      link = link.slice(0, -1);
      closing--;
    } else if (last === ';' && TRAILING_ENTITY.test(link)) {
      link = link.replace(TRAILING_ENTITY, '');
    } else {
      break;
    }
  }
  const domain = DOMAIN.exec(link)?.[0];
  if (
    !domain ||
    domain
      .split('.')
      .slice(-2)
      .some((label) => label.includes('_'))
  )
    return 0;
  return link.length;
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}

/** Tags whose content is never text for a reader: removed with the tags when raw HTML is stripped. */
const RAW_TEXT_OPEN = /^<(script|style)(?=[\s/>]|$)/i;
const RAW_TEXT_CLOSE = /^<\/(script|style)\s*>/i;
/** HTML blocks that are comments, processing instructions, declarations or CDATA: nothing to keep. */
const NON_TEXT_HTML_BLOCK = /^(?:<!--|<\?|<![A-Za-z]|<!\[CDATA\[|<(?:script|style)(?=[\s>]|$))/i;
const CODE_LANGUAGE = /^[A-Za-z0-9_+-]{1,32}$/;

/**
 * The core rule that turns markdown-it's tokens into what the policy allows, before rendering (HTML or plain text):
 * raw HTML stripped, h1 → h2, `s` → `del`, table alignment as `align`, link rel, images vetted, code languages vetted.
 */
function applyContentPolicy(state: StateCore): void {
  const result: Token[] = [];
  for (const token of state.tokens) {
    switch (token.type) {
      case 'html_block': {
        const paragraph = htmlBlockAsParagraph(state, token);
        if (paragraph) result.push(...paragraph);
        continue;
      }
      case 'heading_open':
      case 'heading_close':
        if (token.tag === 'h1') token.tag = 'h2';
        break;
      case 'th_open':
      case 'td_open':
        alignmentAsAttribute(token);
        break;
      case 'fence': {
        const language = token.info.trim().split(/\s+/)[0] ?? '';
        token.info = CODE_LANGUAGE.test(language) ? language : '';
        break;
      }
      case 'inline':
        if (token.children) token.children = applyInlinePolicy(state, token.children);
        break;
      case 'paragraph_close': {
        // A paragraph that held nothing but raw HTML is empty now: leave it out rather than render `<p></p>`.
        const inline = result.at(-1);
        if (result.at(-2)?.type === 'paragraph_open' && inline?.type === 'inline' && isBlankInline(inline)) {
          result.length -= 2;
          continue;
        }
        break;
      }
    }
    result.push(token);
  }
  state.tokens = result;
}

/** markdown-it writes `style="text-align:…"`; the allowlist has no `style`, so alignment becomes `align`. */
function alignmentAsAttribute(token: Token): void {
  const style = token.attrGet('style');
  token.attrs = null;
  const alignment = typeof style === 'string' ? /^text-align:(left|center|right)$/.exec(style)?.[1] : undefined;
  if (alignment) token.attrSet('align', alignment);
}

/**
 * An HTML block keeps its text as a paragraph: its inline content is parsed again (with raw HTML recognised, so the
 * tags can be dropped), or nothing at all if the block is a comment, script, style or the like.
 */
function htmlBlockAsParagraph(state: StateCore, block: Token): Token[] | undefined {
  if (NON_TEXT_HTML_BLOCK.test(block.content)) return undefined;
  // parseInline runs the core rules, this one included, so the children arrive with the HTML already stripped.
  const inline = state.md.parseInline(block.content.trim(), state.env)[0];
  if (!inline || isBlankInline(inline)) return undefined;
  const open = new state.Token('paragraph_open', 'p', 1);
  const content = new state.Token('inline', '', 0);
  const close = new state.Token('paragraph_close', 'p', -1);
  open.level = block.level;
  open.map = block.map;
  open.block = close.block = content.block = true;
  content.level = block.level + 1;
  content.content = block.content;
  content.children = trimSoftBreaks(inline.children ?? []);
  close.level = block.level;
  return [open, content, close];
}

function trimSoftBreaks(children: Token[]): Token[] {
  let start = 0;
  let end = children.length;
  while (start < end && isBlank(children[start]!)) start++;
  while (end > start && isBlank(children[end - 1]!)) end--;
  return children.slice(start, end);
}

function isBlankInline(inline: Token): boolean {
  return (inline.children ?? []).every(isBlank);
}

function isBlank(token: Token): boolean {
  return token.type === 'softbreak' || (token.type === 'text' && token.content.trim() === '');
}

function applyInlinePolicy(state: StateCore, children: Token[]): Token[] {
  const result: Token[] = [];
  let insideRawText = false;
  let insideRefusedLink = false;
  for (const token of children) {
    if (token.type === 'html_inline') {
      // `<script>…</script>` written inline: the tags are dropped below, and so is what they enclose.
      if (insideRawText) insideRawText = !RAW_TEXT_CLOSE.test(token.content);
      else insideRawText = RAW_TEXT_OPEN.test(token.content);
      continue;
    }
    if (insideRawText) continue;
    switch (token.type) {
      case 's_open':
      case 's_close':
        token.tag = 'del';
        break;
      case 'link_open': {
        // markdown-it vets URLs with validateLink, except an empty destination (`[x]()`): such a link is unwrapped.
        const href = token.attrGet('href');
        if (typeof href !== 'string' || !isAllowedLinkUrl(href)) {
          insideRefusedLink = true;
          continue;
        }
        token.attrSet('rel', LINK_REL);
        break;
      }
      case 'link_close':
        // Links do not nest, so the next close belongs to the refused link.
        if (insideRefusedLink) {
          insideRefusedLink = false;
          continue;
        }
        break;
      case 'image': {
        if (token.children) token.children = applyInlinePolicy(state, token.children);
        const src = token.attrGet('src');
        if (typeof src !== 'string' || !isAllowedImageUrl(src)) {
          const alt = new state.Token('text', '', 0);
          alt.content = state.md.renderer.renderInlineAsText(token.children ?? [], state.md.options, state.env);
          result.push(alt);
          continue;
        }
        break;
      }
    }
    result.push(token);
  }
  return result;
}
