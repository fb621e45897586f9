/**
 * An independent check that HTML cannot execute anything: it is parsed as a browser would (parse5 implements the
 * WHATWG HTML parsing algorithm, entity decoding and foreign content included), and every node is walked. The
 * allowlist here is written out again on purpose instead of imported from src/content: the check must not share a
 * mistake with the code it checks.
 */
import { type DefaultTreeAdapterTypes, parseFragment } from 'parse5';

const HTML_NAMESPACE = 'http://www.w3.org/1999/xhtml';

const ALLOWED: Record<string, readonly string[]> = {
  p: [],
  h2: [],
  h3: [],
  h4: [],
  h5: [],
  h6: [],
  strong: [],
  em: [],
  del: [],
  code: ['class'],
  pre: [],
  blockquote: [],
  ul: [],
  ol: ['start'],
  li: [],
  a: ['href', 'title', 'rel'],
  table: [],
  thead: [],
  tbody: [],
  tr: [],
  th: ['align'],
  td: ['align'],
  hr: [],
  br: [],
  img: ['src', 'alt', 'title'],
};

const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_SCHEMES = new Set(['https:']);
const REL = 'noopener noreferrer nofollow ugc';

/**
 * Everything in `html` that breaks the policy, as readable findings (empty when the HTML is safe): elements outside
 * the allowlist or outside the HTML namespace (svg, math), attributes outside it (event handlers and `style`
 * included), URLs that are not absolute http/https/mailto (https for images) after entity decoding, links without
 * the rel, and comments.
 */
export function findExecutableHtml(html: string): string[] {
  const findings: string[] = [];
  const stack: DefaultTreeAdapterTypes.Node[] = [parseFragment(html)];
  // Depth-first in document order, with an explicit stack: deeply nested input must not exhaust the call stack.
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.nodeName === '#comment') findings.push('comment');
    if ('tagName' in node) checkElement(node, findings);
    if ('childNodes' in node) stack.push(...[...node.childNodes].reverse());
    if ('content' in node) stack.push(node.content);
  }
  return findings;
}

function checkElement(element: DefaultTreeAdapterTypes.Element, findings: string[]): void {
  const tag = element.tagName;
  if (element.namespaceURI !== HTML_NAMESPACE) findings.push(`<${tag}> in namespace ${element.namespaceURI}`);
  const allowedAttributes = ALLOWED[tag];
  if (!allowedAttributes) {
    findings.push(`element <${tag}>`);
    return;
  }
  for (const { name, value } of element.attrs) {
    if (name.startsWith('on')) findings.push(`event handler ${name} on <${tag}>`);
    else if (name === 'style') findings.push(`style on <${tag}>`);
    else if (!allowedAttributes.includes(name)) findings.push(`attribute ${name} on <${tag}>`);
    else if (tag === 'a' && name === 'href' && !hasScheme(value, LINK_SCHEMES)) findings.push(`href ${value}`);
    else if (tag === 'img' && name === 'src' && !hasScheme(value, IMAGE_SCHEMES)) findings.push(`src ${value}`);
    else if (tag === 'code' && name === 'class' && !/^language-[A-Za-z0-9_+-]+$/.test(value))
      findings.push(`class ${value}`);
    else if ((tag === 'th' || tag === 'td') && !['left', 'center', 'right'].includes(value))
      findings.push(`align ${value}`);
  }
  if (tag === 'a') {
    const rel = element.attrs.find((attribute) => attribute.name === 'rel')?.value;
    if (rel !== REL) findings.push(`link rel ${rel ?? '(none)'}`);
  }
  if (tag === 'img' && !element.attrs.some((attribute) => attribute.name === 'src')) findings.push('img without src');
}

/** As a browser resolves it: the WHATWG URL parser on the decoded attribute value (no base: relative is refused). */
function hasScheme(url: string, schemes: ReadonlySet<string>): boolean {
  try {
    return schemes.has(new URL(url).protocol);
  } catch {
    return false;
  }
}
