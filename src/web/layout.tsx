/**
 * The frame of every page: `<html lang>` in the reader's language, the skip link, the header with the service's
 * name, sign-in state and language choice, the main navigation, `<main id="main">`, and the footer. Landmarks are the
 * HTML elements themselves (header, nav, main, footer), each named where there are several of a kind.
 *
 * The language choice is a form (POST /language): remembering it is a state change, so never a link. Signing out
 * is a form too (POST /auth/logout with the CSRF token). Without JavaScript everything here works.
 */
import type { ComponentChildren } from 'preact';
import { LANGUAGES } from '../domain/types.js';
import { CsrfField } from './components/forms.js';
import type { PageContext } from './context.js';
import type { MessageKey } from './i18n/catalogue.js';
import { WEB_PATHS, withoutLanguageParameter } from './paths.js';

/** The main navigation's items; `current` names the one the page belongs to (aria-current="page"). */
export type NavItem = 'home' | 'channels' | 'search' | 'myFeed' | 'subscriptions' | 'account' | 'publish' | 'admin';

export interface LayoutProps {
  ctx: PageContext;
  /** The page's own title; the document title is "<title> – Meldingskanal" (WCAG 2.4.2). */
  title: string;
  current?: NavItem;
  /** Logical names of page modules to load besides the site's (`entries/feed.js`). */
  scripts?: readonly string[];
  /** Extra `<head>` content: feed autodiscovery links, `<meta name="robots">`. */
  head?: ComponentChildren;
  /**
   * A page whose address holds a secret (the pages behind e-mail links: `?token=…`): no language form and no sign-in
   * link, which would carry the address along (as returnTo) into another request and its logs.
   */
  addressHoldsSecret?: boolean;
  children: ComponentChildren;
}

interface NavLink {
  item: NavItem;
  href: string;
  label: MessageKey;
}

function navigation(ctx: PageContext): NavLink[] {
  const links: NavLink[] = [
    { item: 'home', href: WEB_PATHS.home, label: 'nav.home' },
    { item: 'channels', href: WEB_PATHS.channels, label: 'nav.channels' },
    { item: 'search', href: WEB_PATHS.search, label: 'nav.search' },
  ];
  if (ctx.viewer) {
    links.push(
      { item: 'myFeed', href: WEB_PATHS.myFeed, label: 'nav.myFeed' },
      { item: 'subscriptions', href: WEB_PATHS.mySubscriptions, label: 'nav.subscriptions' },
      { item: 'account', href: WEB_PATHS.myAccount, label: 'nav.account' },
    );
    if (ctx.viewer.canPublish) links.push({ item: 'publish', href: WEB_PATHS.publish, label: 'nav.publish' });
    if (ctx.viewer.isAdmin) links.push({ item: 'admin', href: WEB_PATHS.admin, label: 'nav.admin' });
  }
  return links;
}

function LanguageChoice({ ctx }: { ctx: PageContext }) {
  return (
    <form method="post" action={WEB_PATHS.language}>
      <CsrfField ctx={ctx} />
      <input type="hidden" name="returnTo" value={withoutLanguageParameter(ctx.path)} />
      <fieldset class="mk-language">
        <legend>{ctx.t('language.choose')}</legend>
        {LANGUAGES.map((language) => (
          <button
            key={language}
            class="ds-button"
            data-variant={language === ctx.language ? 'secondary' : 'tertiary'}
            data-size="sm"
            type="submit"
            name="lang"
            value={language}
            lang={language}
            aria-pressed={language === ctx.language}
          >
            {ctx.t(`language.${language}`)}
          </button>
        ))}
      </fieldset>
    </form>
  );
}

function SignInState({ ctx }: { ctx: PageContext }) {
  if (ctx.viewer) {
    return (
      <form method="post" action={WEB_PATHS.signOut} class="mk-inline">
        <span>{ctx.t('auth.signedInAs', { name: ctx.viewer.displayName })}</span>
        <CsrfField ctx={ctx} />
        <button class="ds-button" data-variant="secondary" data-size="sm" type="submit">
          {ctx.t('auth.signOut')}
        </button>
      </form>
    );
  }
  if (!ctx.site.signInAvailable) return null;
  return (
    <a class="ds-button" data-variant="primary" data-size="sm" href={WEB_PATHS.signIn(ctx.path)}>
      {ctx.t('auth.signIn')}
    </a>
  );
}

export function Layout(props: LayoutProps) {
  const { ctx } = props;
  const siteName = ctx.t('site.name');
  return (
    <html lang={ctx.language} data-color-scheme="auto">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title === siteName ? siteName : `${props.title} – ${siteName}`}</title>
        <meta name="description" content={ctx.t('site.description')} />
        <link rel="stylesheet" href={ctx.assets.url('app.css')} />
        <script type="module" src={ctx.assets.url('entries/app.js')} />
        {(props.scripts ?? []).map((name) => (
          <script key={name} type="module" src={ctx.assets.url(name)} />
        ))}
        {props.head}
      </head>
      <body>
        <a class="ds-skip-link" href="#main">
          {ctx.t('layout.skipToContent')}
        </a>
        <header class="mk-header">
          <div class="mk-container">
            <div class="mk-header__bar">
              <a class="mk-brand" href={WEB_PATHS.home}>
                <span class="mk-brand__name">{siteName}</span>
                <span class="mk-brand__tagline">{ctx.t('site.tagline')}</span>
              </a>
              {props.addressHoldsSecret ? null : (
                <div class="mk-header__tools">
                  <LanguageChoice ctx={ctx} />
                  <SignInState ctx={ctx} />
                </div>
              )}
            </div>
            <nav class="mk-nav" aria-label={ctx.t('layout.mainNavigation')}>
              <ul>
                {navigation(ctx).map((link) => (
                  <li key={link.item}>
                    <a class="ds-link" href={link.href} aria-current={link.item === props.current ? 'page' : undefined}>
                      {ctx.t(link.label)}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" class="mk-main mk-container" tabIndex={-1}>
          {props.children}
        </main>
        <footer class="mk-footer">
          <div class="mk-container">
            <p class="ds-paragraph" data-size="sm">
              {ctx.t('layout.footer')}
            </p>
            <ul>
              <li>
                <a class="ds-link" href="/api/docs">
                  {ctx.t('layout.apiDocs')}
                </a>
              </li>
              <li>
                <a class="ds-link" href="/feeds/public.atom">
                  {ctx.t('layout.feeds')}
                </a>
              </li>
              {ctx.site.mailCatcherUrl ? (
                <li>
                  <a class="ds-link" href={ctx.site.mailCatcherUrl}>
                    {ctx.t('layout.mailCatcher')}
                  </a>
                </li>
              ) : null}
            </ul>
          </div>
        </footer>
      </body>
    </html>
  );
}

/** A page's main heading and optional lead paragraph, the same on every page. */
export function PageHeading(props: { title: string; lead?: ComponentChildren }) {
  return (
    <div class="mk-stack">
      <h1 class="ds-heading" data-size="lg">
        {props.title}
      </h1>
      {props.lead ? (
        <p class="ds-paragraph" data-variant="long">
          {props.lead}
        </p>
      ) : null}
    </div>
  );
}
