/**
 * DKIM signing (RFC 6376) of outgoing mail, optional: on when DKIM_DOMAIN, DKIM_SELECTOR and a key are configured
 * (src/config.ts parses the key at start-up). nodemailer signs in the transport, relaxed/relaxed, rsa-sha256.
 *
 * The signed header list is explicit rather than nodemailer's default, so what it covers is visible here and cannot
 * change with a library update. It must include List-Unsubscribe and List-Unsubscribe-Post: RFC 8058 §4 makes a
 * receiver's one-click unsubscribe depend on a valid DKIM signature that covers both, otherwise anyone relaying the
 * message could swap the unsubscribe link. Headers listed but absent from a message are left out of `h=` (nodemailer
 * includes only those present).
 */

/** The headers the signature covers, in this order. */
export const DKIM_SIGNED_HEADERS = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Content-Language',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'Auto-Submitted',
] as const;

/** DKIM_DOMAIN, DKIM_SELECTOR and the PEM private key (Config['mail']['dkim']). */
export interface DkimSettings {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: string;
}

/** nodemailer's `dkim` transport option for these settings. */
export function dkimTransportOptions(settings: DkimSettings): {
  domainName: string;
  keySelector: string;
  privateKey: string;
  headerFieldNames: string;
} {
  return {
    domainName: settings.domainName,
    keySelector: settings.keySelector,
    privateKey: settings.privateKey,
    headerFieldNames: DKIM_SIGNED_HEADERS.join(':'),
  };
}
