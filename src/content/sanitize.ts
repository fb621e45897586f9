/**
 * The HTML allowlist every rendered announcement body passes through, and the URL rules it shares with the Markdown
 * renderer. Pure: no I/O.
 *
 * Why sanitize-html: it is maintained (apostrophecms), runs on Node without a DOM (DOMPurify would need jsdom on the
 * server), and works by allowlist (tags, attributes, URL schemes), which is exactly the policy below. It is pinned to
 * 2.17.5 because 2.17.6 and later require Node 22.12, and this service must also run on Node 20.
 *
 * The policy, in one place:
 * - Elements: p, h2–h6, strong, em, del, code, pre, blockquote, ul, ol, li, a, table, thead, tbody, tr, th, td, hr, br,
 *   img. `h1` becomes `h2` (the announcement title is the page's only h1) and `s`/`strike` become `del`. Anything else
 *   is dropped with its text kept, except elements whose content is not text for people (script, style, template…),
 *   which are dropped with their content.
 * - Attributes: a[href title rel], img[src alt title], th/td[align] (left, center, right), ol[start],
 *   code[class="language-…"]. Never `style`, never an event handler, never anything else.
 * - URLs must be absolute and parse (WHATWG, as browsers do, after the HTML parser has decoded entities) to `http:`,
 *   `https:` or `mailto:`; image sources to `https:` only. Relative URLs are refused because the same HTML goes into
 *   e-mails and feeds, where there is no page to resolve them against. A link whose URL is refused loses its `<a>`
 *   but keeps its text; an image whose source is refused is removed.
 * - Every link gets `rel="noopener noreferrer nofollow ugc"`; `target` is never set.
 */
import sanitizeHtmlLibrary from 'sanitize-html';

/** The `rel` every link carries: no window.opener, no referrer, no endorsement of the target by search engines. */
export const LINK_REL = 'noopener noreferrer nofollow ugc';

/** Elements that survive sanitising. */
export const ALLOWED_TAGS: readonly string[] = [
  'p',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'hr',
  'br',
  'img',
];

/** Attributes that survive sanitising, per element (`class` on `code` only as `language-…`). */
export const ALLOWED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  a: ['href', 'title', 'rel'],
  img: ['src', 'alt', 'title'],
  th: ['align'],
  td: ['align'],
  ol: ['start'],
  code: ['class'],
};

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_PROTOCOLS = new Set(['https:']);
const TABLE_ALIGNMENTS = new Set(['left', 'center', 'right']);
/** The only class kept: a code block's language, for syntax highlighting on the web pages. */
const CODE_LANGUAGE_CLASS = /^language-[A-Za-z0-9_+-]{1,32}$/;

/**
 * Whether `url` may be a link target: absolute, and `http:`, `https:` or `mailto:` as a browser would parse it. The
 * WHATWG parser (Node's `URL`, the same algorithm browsers use) strips the leading/trailing controls and spaces and the
 * inner tabs and newlines that obfuscated schemes (`java\tscript:`) rely on, and lower-cases the scheme, so what is
 * checked here is what a browser would act on. Without a base, relative URLs throw and are refused.
 */
export function isAllowedLinkUrl(url: string): boolean {
  return protocolOf(url, LINK_PROTOCOLS);
}

/**
 * Whether `url` may be an image source: absolute `https:` only. No `data:` (script-capable SVG, and tracking blobs
 * nobody can review), no `http:` (mixed content on the HTTPS pages; e-mail clients warn about it).
 */
export function isAllowedImageUrl(url: string): boolean {
  return protocolOf(url, IMAGE_PROTOCOLS);
}

function protocolOf(url: string, allowed: ReadonlySet<string>): boolean {
  try {
    return allowed.has(new URL(url).protocol);
  } catch {
    return false;
  }
}

const OPTIONS: sanitizeHtmlLibrary.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: Object.fromEntries(Object.entries(ALLOWED_ATTRIBUTES).map(([tag, names]) => [tag, [...names]])),
  allowedClasses: { code: [CODE_LANGUAGE_CLASS] },
  // The library's own scheme check runs too (belt and braces); the WHATWG check in the transforms is the strict one.
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Dropped together with their content: it is code, markup or chrome, not text meant for a reader.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'xmp', 'noscript', 'template', 'title', 'iframe', 'noembed'],
  transformTags: {
    h1: 'h2',
    s: 'del',
    strike: 'del',
    a: (_tagName, attribs) => {
      const href = attribs.href;
      // Without an acceptable href the link is unwrapped by exclusiveFilter below. (Renaming it to a disallowed tag
      // would unwrap it too, but sanitize-html then renames a later closing tag at the same depth: its transform
      // bookkeeping is not cleared for discarded tags.)
      if (href === undefined || !isAllowedLinkUrl(href)) return { tagName: 'a', attribs: {} };
      const kept: Record<string, string> = { href, rel: LINK_REL };
      if (attribs.title) kept.title = attribs.title;
      return { tagName: 'a', attribs: kept };
    },
    img: (_tagName, attribs) => {
      const kept: Record<string, string> = {};
      if (attribs.src !== undefined && isAllowedImageUrl(attribs.src)) kept.src = attribs.src;
      // alt is always written, empty if absent: an image without alt is read out by its file name.
      kept.alt = attribs.alt ?? '';
      if (attribs.title) kept.title = attribs.title;
      return { tagName: 'img', attribs: kept };
    },
    th: keepAlignOnly,
    td: keepAlignOnly,
  },
  exclusiveFilter: (frame) => {
    // A link whose URL was refused loses its tag and keeps its text.
    if (frame.tag === 'a' && !frame.attribs.href) return 'excludeTag';
    // An image whose source was refused is removed rather than left as a broken <img>.
    return frame.tag === 'img' && !frame.attribs.src;
  },
};

function keepAlignOnly(tagName: string, attribs: sanitizeHtmlLibrary.Attributes): sanitizeHtmlLibrary.Tag {
  const align = attribs.align?.toLowerCase();
  return { tagName, attribs: align && TABLE_ALIGNMENTS.has(align) ? { align } : {} };
}

/**
 * Reduces any HTML to the allowlist above. Never throws. Idempotent on its own output:
 * `sanitizeHtml(sanitizeHtml(x)) === sanitizeHtml(x)` (the property tests check this for rendered Markdown).
 */
export function sanitizeHtml(html: string): string {
  return sanitizeHtmlLibrary(html, OPTIONS);
}
