/**
 * XML text helpers shared by the RSS and Atom renderers. Every string that reaches a feed document passes through one
 * of these, so escaping lives in one place.
 */

/**
 * Characters that XML 1.0 forbids anywhere in a document (§2.2 Char): C0 controls other than TAB/LF/CR, lone UTF-16
 * surrogates, and U+FFFE/U+FFFF. Escaping cannot help (`&#1;` is just as illegal), so they are removed. The `u` flag
 * makes the class match code points, so valid surrogate pairs (emoji) are kept and only unpaired halves go.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the purpose
const XML_ILLEGAL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Cs}/gu;

/** Removes the characters XML 1.0 forbids. */
export function stripIllegalXmlChars(value: string): string {
  return value.replace(XML_ILLEGAL_CHARS, '');
}

/** Escapes character data for an element's text content. `>` is escaped too, so `]]>` can never appear. */
export function escapeXmlText(value: string): string {
  return stripIllegalXmlChars(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/**
 * Escapes an attribute value for a double-quoted attribute. Whitespace characters are written as references because a
 * parser normalises literal TAB/LF/CR in attributes to spaces (XML 1.0 §3.3.3), which would change the value.
 */
export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

/**
 * Wraps (already trusted) HTML in a CDATA section, the readable form for feeds that carry HTML as text. A `]]>` inside
 * the HTML would end the section early, so it is split across two sections: `]]` + `]]><![CDATA[` + `>`.
 */
export function cdata(value: string): string {
  // CR inside CDATA is normalised to LF by every parser; normalising here keeps the document byte-stable.
  const safe = stripIllegalXmlChars(value).replace(/\r\n?/g, '\n');
  return `<![CDATA[${safe.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** An element with escaped text content; `attributes` are escaped and written in the given order. */
export function element(name: string, text: string, attributes: Readonly<Record<string, string>> = {}): string {
  return `<${name}${attributeList(attributes)}>${escapeXmlText(text)}</${name}>`;
}

/** An element wrapping already-rendered child markup; only the attributes are escaped here. */
export function container(name: string, attributes: Readonly<Record<string, string>>, children: string): string {
  return `<${name}${attributeList(attributes)}>${children}</${name}>`;
}

/** An empty element (`<link … />`). */
export function emptyElement(name: string, attributes: Readonly<Record<string, string>>): string {
  return `<${name}${attributeList(attributes)}/>`;
}

function attributeList(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXmlAttribute(value)}"`)
    .join('');
}

/** RFC 3339 timestamp in UTC, whole seconds (Atom `updated`/`published`, RFC 6721 `when`). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * RFC 822 date as RSS 2.0 requires, in its RFC 1123 form (four-digit year, `GMT`), e.g. `Tue, 14 Jan 2025 10:00:00 GMT`.
 * `toUTCString` produces exactly this form.
 */
export function rfc822(date: Date): string {
  return date.toUTCString();
}
