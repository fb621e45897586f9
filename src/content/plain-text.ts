/**
 * markdown-it tokens (after the content policy in markdown.ts) as readable plain text, for the text part of e-mails.
 * Pure. The token stream is flat with explicit open/close tokens; the walk below recurses once per container level,
 * which markdown.ts caps (MARKDOWN_MAX_NESTING), so deep input cannot exhaust the stack.
 */
import type { Token } from 'markdown-it';

/** Columns wider than this are not padded further: one long cell should not push every row off the screen. */
const MAX_COLUMN_WIDTH = 40;
/** Heading underlines are as long as the heading, within these bounds. */
const MIN_RULE = 3;
const MAX_RULE = 72;

/** See renderPlainText in markdown.ts for the format. */
export function renderTokensAsPlainText(tokens: Token[]): string {
  const text = renderBlocks(tokens, 0, tokens.length).join('\n\n');
  return (
    text
      // Terminal and other control characters have no business in an e-mail's text part; tab and newline stay.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

/** The index of the token that closes the one opened at `open` (same level, nesting -1). */
function closeOf(tokens: Token[], open: number, end: number): number {
  const level = tokens[open]!.level;
  for (let i = open + 1; i < end; i++) {
    const token = tokens[i]!;
    if (token.nesting === -1 && token.level === level) return i;
  }
  return end - 1;
}

function renderBlocks(tokens: Token[], start: number, end: number): string[] {
  const blocks: string[] = [];
  let i = start;
  while (i < end) {
    const token = tokens[i]!;
    switch (token.type) {
      case 'paragraph_open': {
        const close = closeOf(tokens, i, end);
        blocks.push(renderInline(tokens[i + 1]?.children ?? []));
        i = close + 1;
        continue;
      }
      case 'heading_open': {
        const close = closeOf(tokens, i, end);
        const text = renderInline(tokens[i + 1]?.children ?? []).replace(/\n/g, ' ');
        const width = Math.min(MAX_RULE, Math.max(MIN_RULE, displayWidth(text)));
        // h2 is the top level in a body (h1 became h2): underlined; deeper headings stand on their own line.
        blocks.push(token.tag === 'h2' ? `${text}\n${'-'.repeat(width)}` : text);
        i = close + 1;
        continue;
      }
      case 'blockquote_open': {
        const close = closeOf(tokens, i, end);
        const inner = renderBlocks(tokens, i + 1, close).join('\n\n');
        blocks.push(
          inner
            .split('\n')
            .map((line) => (line ? `> ${line}` : '>'))
            .join('\n'),
        );
        i = close + 1;
        continue;
      }
      case 'bullet_list_open':
      case 'ordered_list_open': {
        const close = closeOf(tokens, i, end);
        blocks.push(renderList(tokens, i, close));
        i = close + 1;
        continue;
      }
      case 'table_open': {
        const close = closeOf(tokens, i, end);
        blocks.push(renderTable(tokens, i, close));
        i = close + 1;
        continue;
      }
      case 'fence':
      case 'code_block':
        blocks.push(indent(token.content.replace(/\n$/, ''), '    '));
        break;
      case 'hr':
        // Not a row of dashes: that would read like the underline of the paragraph above.
        blocks.push('* * *');
        break;
    }
    i++;
  }
  return blocks.filter((block) => block.trim() !== '');
}

function renderList(tokens: Token[], open: number, close: number): string {
  const ordered = tokens[open]!.type === 'ordered_list_open';
  const start = Number(tokens[open]!.attrGet('start') ?? 1);
  let number = Number.isSafeInteger(start) ? start : 1;
  const items: string[] = [];
  let tight = true;
  let i = open + 1;
  while (i < close) {
    if (tokens[i]!.type !== 'list_item_open') {
      i++;
      continue;
    }
    const itemClose = closeOf(tokens, i, close);
    // markdown-it hides the paragraphs of tight lists; a loose list keeps blank lines between its items.
    for (let j = i + 1; j < itemClose; j++)
      if (tokens[j]!.type === 'paragraph_open' && !tokens[j]!.hidden) tight = false;
    const marker = ordered ? `${number++}. ` : '- ';
    const body = renderBlocks(tokens, i + 1, itemClose).join(tight ? '\n' : '\n\n');
    const [first = '', ...rest] = body.split('\n');
    items.push([marker + first, ...rest.map((line) => (line ? ' '.repeat(marker.length) + line : ''))].join('\n'));
    i = itemClose + 1;
  }
  return items.join(tight ? '\n' : '\n\n');
}

interface Cell {
  text: string;
  align: string | undefined;
}

function renderTable(tokens: Token[], open: number, close: number): string {
  const rows: Cell[][] = [];
  let headerRows = 0;
  let inHead = false;
  for (let i = open + 1; i < close; i++) {
    const token = tokens[i]!;
    if (token.type === 'thead_open') inHead = true;
    else if (token.type === 'thead_close') inHead = false;
    else if (token.type === 'tr_open') {
      rows.push([]);
      if (inHead) headerRows++;
    } else if (token.type === 'th_open' || token.type === 'td_open') {
      const align = token.attrGet('align');
      rows.at(-1)?.push({
        text: renderInline(tokens[i + 1]?.children ?? []).replace(/\n/g, ' '),
        align: typeof align === 'string' ? align : undefined,
      });
    }
  }
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_RULE, ...rows.map((row) => displayWidth(row[c]?.text ?? '')))),
  );
  const lines = rows.map((row) =>
    widths.map((width, c) => pad(row[c] ?? { text: '', align: undefined }, width)).join(' | '),
  );
  if (headerRows > 0) lines.splice(headerRows, 0, widths.map((width) => '-'.repeat(width)).join(' | '));
  return lines.join('\n');
}

function pad(cell: Cell, width: number): string {
  const space = Math.max(0, width - displayWidth(cell.text));
  if (cell.align === 'right') return ' '.repeat(space) + cell.text;
  if (cell.align === 'center') return ' '.repeat(Math.floor(space / 2)) + cell.text + ' '.repeat(Math.ceil(space / 2));
  return cell.text + ' '.repeat(space);
}

/** Code points, not UTF-16 units: æ, ø, å and emoji count as one. */
function displayWidth(text: string): number {
  let width = 0;
  for (const _ of text) width++;
  return width;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line ? prefix + line : ''))
    .join('\n');
}

function renderInline(children: Token[], insideLink = false): string {
  let text = '';
  for (let i = 0; i < children.length; i++) {
    const token = children[i]!;
    switch (token.type) {
      case 'text':
      case 'code_inline':
        text += token.content;
        break;
      case 'softbreak':
      case 'hardbreak':
        text += '\n';
        break;
      case 's_open':
      case 's_close':
        // Struck-out text still means something ("moved from ~~Monday~~ to Tuesday"), so the marks stay.
        text += '~~';
        break;
      case 'link_open': {
        let close = i + 1;
        while (close < children.length && children[close]!.type !== 'link_close') close++;
        const label = renderInline(children.slice(i + 1, close), true);
        text += linkAsText(label, String(token.attrGet('href') ?? ''));
        i = close;
        break;
      }
      case 'image': {
        const alt = renderInline(token.children ?? [], true);
        const src = String(token.attrGet('src') ?? '');
        // Inside a link the link's URL follows; one URL in brackets is enough.
        text += insideLink ? alt : alt ? `${alt} (${src})` : src;
        break;
      }
    }
  }
  return text;
}

/** `text (url)`, or just one of them when the other says nothing more (autolinks, e-mail addresses). */
function linkAsText(label: string, href: string): string {
  const readableHref = decodeForReading(href);
  if (!label.trim()) return href;
  if (label === href || label === readableHref || `https://${label}` === href) return href;
  if (`mailto:${label}` === href || `mailto:${label}` === readableHref) return label;
  return `${label} (${href})`;
}

function decodeForReading(href: string): string {
  try {
    return decodeURI(href);
  } catch {
    return href;
  }
}
