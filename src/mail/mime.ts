/**
 * The MIME bytes of one message template sent to many recipients, built once and joined per recipient.
 *
 * Why: nodemailer builds every message from scratch — a MIME tree, its headers (address parsing, encoded words,
 * folding), a quoted-printable encoder stream per part, pipelines of transforms — and writes the result to the SMTP
 * socket in a dozen small chunks, one system call each. For a batch of one announcement that is the same work for
 * output that differs in three headers (To, Message-ID, List-Unsubscribe) and one token in the bodies. The profile of
 * bench/email-fanout.ts put that work (nodemailer's own code, its streams, the writes and their garbage) at most of a
 * worker's ~1.2 ms per mail. A message given to nodemailer as `raw` skips the tree and goes out in one piece; DKIM
 * signing, when configured, still happens on the way (the transport signs raw messages too).
 *
 * What is built once: the constant header block, by nodemailer's own MimeNode (so From and Subject are encoded and
 * folded exactly as nodemailer would), and each body part's quoted-printable text around the slot where the
 * recipient's token goes. The parts are encoded segment by segment, each ending in a soft line break, with the token
 * (link-safe characters, which quoted-printable leaves as they are) on a line of its own: the decoded text is exactly
 * the rendered text with the token in it. Per recipient: the three headers and a string join.
 *
 * Only for values that need no encoding (ASCII headers, a plain dot-atom address, a short link-safe token); for
 * anything else `build` returns undefined and the caller leaves the message to nodemailer.
 */
import { randomBytes } from 'node:crypto';
import MimeNode from 'nodemailer/lib/mime-node';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import type { MailAddress } from './mailer.js';

/** What is the same for every recipient. `text` and `html` are the rendered parts split where the token goes. */
export interface MimeTemplateInput {
  from: string | MailAddress;
  subject: string;
  /** Headers with the same value for every recipient. */
  headers: Readonly<Record<string, string>>;
  text: readonly string[];
  html: readonly string[];
}

/** What differs per recipient. `headers` are the per-recipient headers (List-Unsubscribe), already joined. */
export interface MimeRecipient {
  to: string;
  messageId: string;
  headers: Readonly<Record<string, string>>;
  /** Goes between the segments of `text` and `html` (unused when there is one segment each). */
  slot: string;
}

/** RFC 5322 dot-atom local part and an ASCII domain: written into To as it is, as nodemailer writes it. */
const PLAIN_ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
/** Characters quoted-printable leaves as they are and that nothing escapes in a URL or HTML attribute. */
const SLOT_SAFE = /^[A-Za-z0-9._-]{1,70}$/;
/** Printable ASCII: a header value nodemailer would not encode. */
const PLAIN_HEADER_VALUE = /^[\x20-\x7e]{1,900}$/;
const PLAIN_HEADER_NAME = /^[A-Za-z0-9-]{1,60}$/;

/** Quoted-printable lines are at most 76 characters; a segment's last line needs room for the soft break's `=`. */
const QP_LINE = 76;

export interface MimeTemplate {
  /** The whole message (ASCII), or undefined when a value of this recipient needs nodemailer's encoding. */
  build(recipient: MimeRecipient): string | undefined;
}

export function mimeTemplate(input: MimeTemplateInput): MimeTemplate {
  const root = new MimeNode('multipart/alternative', {
    baseBoundary: randomBytes(12).toString('hex'),
    boundaryPrefix: '--_MkP',
  });
  // MimeNode's header methods take what MailComposer gives them (an address object for From included).
  root.setHeader('From', input.from as unknown as string);
  root.setHeader('Subject', input.subject);
  for (const [name, value] of Object.entries(input.headers)) root.setHeader(name, value);
  // Set so that MimeNode does not make one up; taken out below, each recipient gets their own.
  const sentinel = `<${randomBytes(9).toString('hex')}@message-id>`;
  root.setHeader('Message-ID', sentinel);
  const headerBlock = root
    .buildHeaders()
    .split('\r\n')
    .filter((line) => line !== `Message-ID: ${sentinel}`)
    .join('\r\n');
  const boundary = root.boundary;
  if (!boundary) throw new Error('mimeTemplate: the multipart root has no boundary');

  const part = (contentType: string, segments: readonly string[]) => {
    const encoded = segments.map((segment, i) => {
      const qp = qpEncode(segment.replace(/\r?\n/g, '\r\n'));
      // Every segment but the last ends in a soft line break, so the slot starts a line of its own.
      return i < segments.length - 1 ? `${qpWrap(qp, QP_LINE - 1)}=\r\n` : qpWrap(qp, QP_LINE);
    });
    return {
      head: `--${boundary}\r\nContent-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`,
      encoded,
    };
  };
  const text = part('text/plain', input.text);
  const html = part('text/html', input.html);
  // A slot on a line of its own, ended by a soft line break: decodes to the slot alone.
  const join = (encoded: readonly string[], slot: string) => encoded.join(`${slot}=\r\n`);
  const tail = `\r\n--${boundary}--\r\n`;
  const hasSlot = input.text.length > 1 || input.html.length > 1;

  return {
    build(recipient) {
      if (!PLAIN_ADDRESS.test(recipient.to) || (hasSlot && !SLOT_SAFE.test(recipient.slot))) return undefined;
      if (!PLAIN_HEADER_VALUE.test(recipient.messageId)) return undefined;
      let head = `To: ${recipient.to}\r\nMessage-ID: ${recipient.messageId}\r\n`;
      for (const [name, value] of Object.entries(recipient.headers)) {
        if (!PLAIN_HEADER_NAME.test(name) || !PLAIN_HEADER_VALUE.test(value)) return undefined;
        // Folded where nodemailer folds a list of URIs: at the space after each comma.
        head += `${name}: ${value.split(', ').join(',\r\n ')}\r\n`;
      }
      return `${head}${headerBlock}\r\n\r\n${text.head}${join(text.encoded, recipient.slot)}\r\n${html.head}${join(html.encoded, recipient.slot)}${tail}`;
    },
  };
}
