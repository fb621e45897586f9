/**
 * The pages behind the links in e-mails: unsubscribe (RFC 8058's page, src/http/routes/unsubscribe.ts) and confirm
 * an e-mail subscription (src/http/routes/email-subscriptions.ts). Opening a link changes nothing (mail scanners
 * follow links): the page asks, and its button POSTs back to the same address, token included (a form without an
 * action posts to the page's own URL). In the subscription's language, which the token's subscription tells; the
 * frame leaves out the language form and sign-in, which would carry the address and its token along.
 */
import { ANONYMOUS, type Language } from '../../domain/types.js';
import type { WebAssets } from '../assets.js';
import type { PageContext, SiteInfo } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { translator } from '../i18n/translator.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';
import { renderDocument } from '../render.js';

export type EmailLinkPurpose = 'unsubscribe' | 'confirm';

/** What the link's route found: ask (the button), done, or a link that is not valid (which says nothing more). */
export type EmailLinkState =
  | { kind: 'confirm' | 'done'; language: Language; channelTitle: string }
  | { kind: 'invalid'; language: Language };

export type EmailLinkPage =
  | { purpose: EmailLinkPurpose; kind: 'ask' | 'done'; channelTitle: string }
  | { purpose: EmailLinkPurpose; kind: 'invalid' };

/** What the frame needs besides a request: the built assets and the deployment's facts. */
export interface EmailLinkWeb {
  assets: WebAssets;
  site: SiteInfo;
}

/**
 * The whole document of a link page, in the subscription's language, for `path` (the link itself). Rendered for an
 * anonymous reader whoever is signed in: the page is about the link's subscription, not about the session.
 */
export function renderEmailLinkPage(
  web: EmailLinkWeb,
  purpose: EmailLinkPurpose,
  state: EmailLinkState,
  path: string,
): string {
  const ctx: PageContext = {
    ...translator(state.language),
    actor: ANONYMOUS,
    viewer: null,
    path,
    assets: web.assets,
    site: web.site,
    now: new Date(),
  };
  const page: EmailLinkPage =
    state.kind === 'invalid'
      ? { purpose, kind: 'invalid' }
      : { purpose, kind: state.kind === 'confirm' ? 'ask' : 'done', channelTitle: state.channelTitle };
  return renderDocument(<EmailLinkPageView ctx={ctx} page={page} />);
}

const WORDS = {
  unsubscribe: {
    ask: { title: 'emailLink.unsubscribe.title', text: 'emailLink.unsubscribe.question' },
    done: { title: 'emailLink.unsubscribe.doneTitle', text: 'emailLink.unsubscribe.done' },
    invalid: { title: 'emailLink.invalidTitle', text: 'emailLink.unsubscribe.invalid' },
    button: 'emailLink.unsubscribe.button',
    after: 'emailLink.unsubscribe.explanation',
    /** The one field RFC 8058 asks a one-click POST to carry (the token in the address is what counts). */
    field: ['List-Unsubscribe', 'One-Click'],
  },
  confirm: {
    ask: { title: 'emailLink.confirm.title', text: 'emailLink.confirm.question' },
    done: { title: 'emailLink.confirm.doneTitle', text: 'emailLink.confirm.done' },
    invalid: { title: 'emailLink.invalidTitle', text: 'emailLink.confirm.invalid' },
    button: 'emailLink.confirm.button',
    after: 'emailLink.confirm.howToLeave',
    field: ['confirm', 'yes'],
  },
} as const satisfies Record<
  EmailLinkPage['purpose'],
  Record<'ask' | 'done' | 'invalid', { title: MessageKey; text: MessageKey }> & {
    button: MessageKey;
    after: MessageKey;
    field: readonly [string, string];
  }
>;

export function EmailLinkPageView({ ctx, page }: { ctx: PageContext; page: EmailLinkPage }) {
  const words = WORDS[page.purpose];
  const { title, text } = words[page.kind];
  const channel = page.kind === 'invalid' ? '' : page.channelTitle;
  const showAfter = page.kind === 'done' || (page.kind === 'ask' && page.purpose === 'unsubscribe');
  return (
    <Layout ctx={ctx} title={ctx.t(title)} head={<meta name="robots" content="noindex" />} addressHoldsSecret>
      <PageHeading title={ctx.t(title)} />
      <p class="ds-paragraph" role={page.kind === 'done' ? 'status' : undefined}>
        {ctx.t(text, { channel })}
      </p>
      {page.kind === 'ask' ? (
        <form method="post">
          <input type="hidden" name={words.field[0]} value={words.field[1]} />
          <button class="ds-button" data-variant="primary" type="submit">
            {ctx.t(words.button)}
          </button>
        </form>
      ) : null}
      {showAfter ? <p class="ds-paragraph">{ctx.t(words.after)}</p> : null}
      {page.kind !== 'ask' ? (
        <p class="ds-paragraph">
          <a class="ds-link" href={WEB_PATHS.home}>
            {ctx.t('error.backHome')}
          </a>
        </p>
      ) : null}
    </Layout>
  );
}
