/**
 * The development sign-in's pages (src/auth/dev-provider.ts): the account picker, the sign-out question, and the
 * error and done pages. The provider runs on its own port, so these are their own small documents, not the site's
 * frame — but with the site's style sheet (the provider serves app.css at DEV_STYLESHEET_PATH), the catalogue's
 * words, and the same escaping templates. In bokmål with the English alongside, whatever the browser asks for:
 * developers of any language use them, and every page says it is not Feide.
 */
import type { ComponentChildren } from 'preact';
import type { MessageKey } from '../i18n/catalogue.js';
import { translator } from '../i18n/translator.js';
import { renderDocument } from '../render.js';

/** Where the provider serves the site's style sheet for these pages (its own origin: CSP style-src 'self'). */
export const DEV_STYLESHEET_PATH = '/assets/app.css';

/** Every page of the provider says this, so nobody mistakes it for Feide. */
export const DEV_SIGN_IN_LABEL = 'Utviklingsinnlogging — development sign-in, not Feide';

const nb = translator('nb');
const en = translator('en');

/** The bokmål words, with the English after them in their own language. */
function Both({ k }: { k: MessageKey }) {
  return (
    <>
      {nb.t(k)} <span lang="en">({en.t(k)})</span>
    </>
  );
}

function DevPage({ title, children }: { title: MessageKey; children: ComponentChildren }) {
  return (
    <html lang="nb" data-color-scheme="auto">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${nb.t(title)} – ${DEV_SIGN_IN_LABEL}`}</title>
        <link rel="stylesheet" href={DEV_STYLESHEET_PATH} />
      </head>
      <body>
        <main class="mk-main mk-container mk-dev mk-stack">
          <p class="ds-alert mk-dev__banner" data-color="warning" role="note">
            {DEV_SIGN_IN_LABEL}
          </p>
          {children}
        </main>
      </body>
    </html>
  );
}

export interface DevAccountChoice {
  subject: string;
  displayName: string;
  principalName: string;
  purpose: string;
}

/** The account picker: one button per demo account, each a complete sign-in; and a way to cancel. */
export function renderDevAccountPicker(uid: string, accounts: readonly DevAccountChoice[]): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return renderDocument(
    <DevPage title="devSignIn.pick.title">
      <h1 class="ds-heading" data-size="lg">
        {nb.t('devSignIn.pick.heading')}
      </h1>
      <p class="ds-paragraph">
        {nb.t('devSignIn.pick.text')} <span lang="en">{en.t('devSignIn.pick.text')}</span>
      </p>
      <form method="post" action={`${action}/login`}>
        <fieldset class="ds-fieldset mk-dev__accounts">
          <legend class="ds-label" data-weight="medium">
            <Both k="devSignIn.pick.legend" />
          </legend>
          <ul class="mk-plain-list mk-stack">
            {accounts.map((account) => (
              <li key={account.subject}>
                <button
                  class="ds-button mk-dev__account"
                  data-variant="secondary"
                  type="submit"
                  name="account"
                  value={account.subject}
                >
                  <span class="mk-dev__name">{account.displayName}</span>
                  <span class="mk-dev__detail">
                    {account.principalName} – {account.purpose}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </fieldset>
      </form>
      <form method="post" action={`${action}/abort`}>
        <button class="ds-button" data-variant="tertiary" type="submit">
          <Both k="devSignIn.pick.cancel" />
        </button>
      </form>
    </DevPage>,
  );
}

/**
 * "Also sign out here?" — oidc-provider's end-session question. Its form (the confirm endpoint and the session's
 * xsrf value) is rebuilt here from those two values, so no markup of the library's enters the page.
 */
export function renderDevLogout(form: { action: string; xsrf: string }): string {
  return renderDocument(
    <DevPage title="devSignIn.logout.title">
      <h1 class="ds-heading" data-size="lg">
        {nb.t('devSignIn.logout.heading')}
      </h1>
      <p class="ds-paragraph">
        {nb.t('devSignIn.logout.text')} <span lang="en">{en.t('devSignIn.logout.text')}</span>
      </p>
      <form id="op.logoutForm" method="post" action={form.action}>
        <input type="hidden" name="xsrf" value={form.xsrf} />
      </form>
      <ul class="mk-plain-list mk-inline">
        <li>
          <button
            class="ds-button"
            data-variant="primary"
            autofocus
            type="submit"
            form="op.logoutForm"
            value="yes"
            name="logout"
          >
            <Both k="devSignIn.logout.yes" />
          </button>
        </li>
        <li>
          <button class="ds-button" data-variant="secondary" type="submit" form="op.logoutForm">
            <Both k="devSignIn.logout.no" />
          </button>
        </li>
      </ul>
    </DevPage>,
  );
}

/**
 * A page with a heading and, optionally, a line of our words (`text`) or the provider's error (`code` and its
 * description, as the library wrote them: shown as text).
 */
export function renderDevMessage(
  title: MessageKey,
  heading: MessageKey,
  detail: { text?: MessageKey; code?: string; description?: string } = {},
): string {
  return renderDocument(
    <DevPage title={title}>
      <h1 class="ds-heading" data-size="lg">
        <Both k={heading} />
      </h1>
      {detail.text ? (
        <p class="ds-paragraph">
          <Both k={detail.text} />
        </p>
      ) : null}
      {detail.code ? (
        <p class="ds-paragraph">
          <code>{detail.code}</code>
          {detail.description ? `: ${detail.description}` : null}
        </p>
      ) : null}
    </DevPage>,
  );
}
