/**
 * `GET /` — a small landing page, so that a person who opens http://localhost:3000 after `npm start` finds the way:
 * the interactive API documentation, the channel list, and (in development without SMTP) the mail catcher where
 * e-mails arrive; and sign-in: "Logg inn", or the signed-in person's name with a "Logg ut" button (a form POST with
 * the session's CSRF token — signing out is a state change, never a link). Norwegian bokmål, like the people it
 * serves; no scripts, no external assets.
 */
// Type-only: brings @fastify/swagger's additions to route schemas (tags, summary, hide) into scope.
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import { isAppError } from '../../domain/errors.js';
import { currentUser } from '../../services/sign-in.js';
import type { AppDeps } from '../app.js';
import { CSRF_FORM_FIELD } from '../plugins/csrf.js';
import { POLICY } from '../policy.js';
import { LOGIN_PATH, LOGOUT_PATH } from './auth.js';

export interface HomeRouteOptions {
  deps: Pick<AppDeps, 'config' | 'db'>;
}

/** The signed-in person looking at the page (session callers only). */
export interface HomeViewer {
  displayName: string;
  csrfToken: string;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Where the development mail catcher can be read, when this configuration starts one (src/mail/dev-catcher.ts):
 * development, no SMTP_URL. Derived from the configuration alone, so every API process shows the same link.
 */
export function mailCatcherWebUrl(config: Config): string | undefined {
  if (config.appEnv !== 'development' || config.mail.smtpUrl) return undefined;
  return `http://localhost:${config.mail.maildev.webPort}`;
}

function signInSection(config: Config, viewer: HomeViewer | null): string {
  if (viewer) {
    return `      <section aria-labelledby="innlogging">
        <h2 id="innlogging">Innlogging</h2>
        <p>Logget inn som <strong>${escapeHtml(viewer.displayName)}</strong>.</p>
        <form method="post" action="${LOGOUT_PATH}">
          <input type="hidden" name="${CSRF_FORM_FIELD}" value="${escapeHtml(viewer.csrfToken)}">
          <button type="submit">Logg ut</button>
        </form>
      </section>`;
  }
  // Without an identity provider there is nothing to sign in with; say nothing rather than offer a dead end.
  if (!config.oidc.issuer) return '';
  return `      <section aria-labelledby="innlogging">
        <h2 id="innlogging">Innlogging</h2>
        <p><a href="${LOGIN_PATH}">Logg inn</a> for å lese interne kanaler og styre abonnementene dine.</p>
      </section>`;
}

/** A public channel whose feeds the page links to. */
export interface HomeFeedChannel {
  slug: string;
  title: string;
}

/** Most channels listed with their feeds; the combined public feed covers every one of them anyway. */
export const HOME_FEED_CHANNEL_LIMIT = 50;

const FEED_LINK_FORMATS: [extension: string, label: string][] = [
  ['atom', 'Atom'],
  ['rss', 'RSS'],
  ['json', 'JSON Feed'],
];

function feedLinks(path: string): string {
  return FEED_LINK_FORMATS.map(
    ([extension, label]) => `<a href="${escapeHtml(`${path}.${extension}`)}">${escapeHtml(label)}</a>`,
  ).join(' · ');
}

/** Feeds of the combined public feed and of each public channel (internal ones have personal feed URLs). */
function feedsSection(channels: readonly HomeFeedChannel[]): string {
  const rows = [
    `        <li>Alle offentlige kanaler: ${feedLinks('/feeds/public')}</li>`,
    ...channels.map(
      (channel) =>
        `        <li>${escapeHtml(channel.title)}: ${feedLinks(`/feeds/channels/${encodeURIComponent(channel.slug)}`)}</li>`,
    ),
  ];
  return `      <section aria-labelledby="nyhetsstrommer">
        <h2 id="nyhetsstrommer">Nyhetsstrømmer</h2>
        <p>Følg de offentlige kanalene i en feedleser. Interne kanaler får du som en personlig feed-adresse når du er
          logget inn.</p>
        <ul>
${rows.join('\n')}
        </ul>
      </section>`;
}

/**
 * @param styleNonce this response's CSP style nonce (reply.cspNonce.style): the page's one inline `<style>`.
 * @param viewer the signed-in person, or null for anonymous visitors.
 * @param feedChannels public channels whose feeds to link to.
 */
export function renderHomePage(
  config: Config,
  styleNonce: string,
  viewer: HomeViewer | null = null,
  feedChannels: readonly HomeFeedChannel[] = [],
): string {
  const signIn = signInSection(config, viewer);
  const catcher = mailCatcherWebUrl(config);
  const links: [href: string, label: string, note: string][] = [
    ['/api/docs', 'API-dokumentasjon', 'Interaktiv dokumentasjon av HTTP-API-et (OpenAPI).'],
    ['/api/v1/channels', 'Kanaler', 'Kanalene du kan lese, som JSON.'],
    ['/api/openapi.json', 'OpenAPI-dokument', 'Maskinlesbar beskrivelse av API-et.'],
    ['/readyz', 'Driftsstatus', 'Svarer 200 når PostgreSQL og Redis er tilgjengelige.'],
  ];
  if (catcher) links.push([catcher, 'E-postfanger (utvikling)', 'Her kommer e-postene som sendes lokalt.']);

  const items = links
    .map(
      ([href, label, note]) =>
        `      <li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a> – ${escapeHtml(note)}</li>`,
    )
    .join('\n');

  return `<!doctype html>
<html lang="nb">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Meldingskanal – BOTT</title>
    <link rel="alternate" type="application/atom+xml" title="Meldingskanal – offentlige kanaler" href="/feeds/public.atom">
    <style nonce="${escapeHtml(styleNonce)}">
      body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
      a { color: #0b5394; }
      a:focus-visible, button:focus-visible { outline: 3px solid #0b5394; outline-offset: 2px; }
      button { font: inherit; padding: 0.4rem 1rem; }
      footer { margin-top: 2rem; font-size: 0.9rem; color: #555; }
    </style>
  </head>
  <body>
    <main>
      <h1>Meldingskanal</h1>
      <p>Kunngjøringstjenesten til BOTT-samarbeidet (UiB, UiO, UiT og NTNU): driftsmeldinger og nyheter fra
        fellesprosjektene, levert på e-post og direkte i nettleseren.</p>
${signIn}
      <h2>Kom i gang</h2>
      <ul>
${items}
      </ul>
${feedsSection(feedChannels)}
    </main>
    <footer><p lang="en">Meldingskanal — the announcement service of the BOTT collaboration.</p></footer>
  </body>
</html>
`;
}

export async function homeRoutes(app: FastifyInstance, options: HomeRouteOptions): Promise<void> {
  // Rendered per response: the CSP nonce of its inline style is (src/http/plugins/security-headers.ts).
  const { config, db } = options.deps;
  app.get('/', { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) => {
    let viewer: HomeViewer | null = null;
    if (request.session) {
      // An account deleted since the session was resolved is simply not signed in any more.
      const user = await currentUser(db, request.actor).catch((error: unknown) => {
        if (isAppError(error) && error.code === 'unauthenticated') return null;
        throw error;
      });
      if (user) viewer = { displayName: user.displayName, csrfToken: request.session.csrfToken };
    }
    const feedChannels = await db.channel.findMany({
      where: { visibility: 'public' },
      orderBy: [{ title: 'asc' }, { slug: 'asc' }],
      take: HOME_FEED_CHANNEL_LIMIT,
      select: { slug: true, title: true },
    });
    return (
      reply
        .type('text/html; charset=utf-8')
        // Personal when signed in (name, CSRF token): never from a shared cache.
        .header('cache-control', viewer ? 'private, no-store' : 'no-cache')
        .send(renderHomePage(config, reply.cspNonce.style, viewer, feedChannels))
    );
  });
}
