/**
 * What every page is rendered with: the reader's language and words, who is looking (if signed in), where the page
 * is, and the asset URLs. Built once per request by `pageContext` (src/http/plugins/web.ts decorates the request with
 * it) and passed down to the templates as a plain object — templates never reach for the request.
 */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/prisma.js';
import { languageFromAcceptLanguage } from '../domain/language.js';
import { type Actor, ANONYMOUS, LANGUAGES, type Language } from '../domain/types.js';
import type { WebAssets } from './assets.js';
import { type Translator, translator } from './i18n/translator.js';

/** The cookie that remembers a visitor's language choice (POST /language); a year, this site only, not secret. */
export const LANGUAGE_COOKIE = 'mk_lang';

/** The signed-in person looking at a page. Only browser sessions count: pages are for people, tokens for programs. */
export interface Viewer {
  readonly userId: string;
  readonly displayName: string;
  readonly isAdmin: boolean;
  /** Owner or publisher of at least one channel (or an administrator): the publishing pages are theirs. */
  readonly canPublish: boolean;
  /** The session's CSRF token, for every form that changes something (src/http/plugins/csrf.ts). */
  readonly csrfToken: string;
  /** Their language setting (User.language). */
  readonly language: Language;
}

export interface PageContext extends Translator {
  /** Who is asking, for the services: the session's actor, or anonymous (a bearer token does not sign in a page). */
  readonly actor: Actor;
  readonly viewer: Viewer | null;
  /** This page's path and query (`/channels/bott-sa?lang=en`), for the language switch and sign-in's returnTo. */
  readonly path: string;
  readonly assets: WebAssets;
  readonly site: SiteInfo;
  /** The moment the page is rendered ("5 minutes ago" is relative to it). */
  readonly now: Date;
}

/** Facts about the deployment the frame shows (derived from the configuration, the same in every process). */
export interface SiteInfo {
  readonly publicUrl: string;
  /** Whether there is an identity provider to sign in with. */
  readonly signInAvailable: boolean;
  /** The development mail catcher's address, when this configuration runs one. */
  readonly mailCatcherUrl: string | undefined;
}

export function siteInfo(config: Config): SiteInfo {
  return {
    publicUrl: config.http.publicUrl,
    // In development without OIDC_ISSUER the launcher starts the local provider and passes its issuer in here.
    signInAvailable: Boolean(config.oidc.issuer),
    mailCatcherUrl:
      config.appEnv === 'development' && !config.mail.smtpUrl
        ? `http://localhost:${config.mail.maildev.webPort}`
        : undefined,
  };
}

function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The page's language: `?lang=` (a link to one language version; changes nothing), else the remembered choice
 * (cookie), else the signed-in person's setting, else the browser's Accept-Language, else bokmål.
 */
export function pageLanguage(request: FastifyRequest, viewer: Pick<Viewer, 'language'> | null): Language {
  const query = request.query as Record<string, unknown> | undefined;
  if (isLanguage(query?.lang)) return query.lang;
  const remembered = request.cookies?.[LANGUAGE_COOKIE];
  if (isLanguage(remembered)) return remembered;
  if (viewer) return viewer.language;
  return languageFromAcceptLanguage(request.headers['accept-language']) ?? 'nb';
}

/** The signed-in viewer behind a session, or null (anonymous, a bearer token, or an account deleted meanwhile). */
export async function findViewer(db: Db, request: FastifyRequest): Promise<Viewer | null> {
  if (request.authMethod !== 'session' || !request.session || request.actor.kind !== 'user') return null;
  const user = await db.user.findUnique({
    where: { id: request.actor.userId },
    select: { displayName: true, isAdmin: true, language: true, _count: { select: { channelRoles: true } } },
  });
  if (!user) return null;
  return {
    userId: request.actor.userId,
    displayName: user.displayName,
    isAdmin: user.isAdmin,
    canPublish: user.isAdmin || user._count.channelRoles > 0,
    csrfToken: request.session.csrfToken,
    language: user.language,
  };
}

export interface PageDeps {
  db: Db;
  assets: WebAssets;
  site: SiteInfo;
}

/** The context of a page for `viewer` (null: rendered for an anonymous visitor). */
export function buildPageContext(
  request: FastifyRequest,
  viewer: Viewer | null,
  deps: Omit<PageDeps, 'db'>,
): PageContext {
  const language = pageLanguage(request, viewer);
  return {
    ...translator(language),
    actor: viewer ? request.actor : ANONYMOUS,
    viewer,
    path: request.url,
    assets: deps.assets,
    site: deps.site,
    now: new Date(),
  };
}

export async function pageContext(request: FastifyRequest, deps: PageDeps): Promise<PageContext> {
  return buildPageContext(request, await findViewer(deps.db, request), deps);
}
