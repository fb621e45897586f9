/**
 * The addresses of the people-facing pages, in one place: pages link with these, and e-mails, feeds and push
 * messages build their absolute links from them (`absoluteUrl(publicUrl, paths.announcement(id))`), so an address
 * is written once. Pure; no Fastify here (route files register these same patterns).
 */
const enc = encodeURIComponent;

export const WEB_PATHS = {
  home: '/',
  language: '/language',
  channels: '/channels',
  channel: (slug: string) => `/channels/${enc(slug)}`,
  announcement: (id: string) => `/announcements/${enc(id)}`,
  search: '/search',
  myFeed: '/me/feed',
  mySubscriptions: '/me/subscriptions',
  myAccount: '/me/account',
  publish: '/publish',
  /** The publishers' pages of one announcement or channel (src/http/routes/web/publisher/). */
  newAnnouncement: (slug: string) => `/channels/${enc(slug)}/announcements/new`,
  editAnnouncement: (id: string) => `/announcements/${enc(id)}/edit`,
  announcementDeliveries: (id: string) => `/announcements/${enc(id)}/deliveries`,
  retractAnnouncement: (id: string) => `/announcements/${enc(id)}/retract`,
  channelSettings: (slug: string) => `/channels/${enc(slug)}/settings`,
  /** The editor's live preview: POST a Markdown body, get the sanitised HTML the readers will see. */
  markdownPreview: '/publish/preview',
  admin: '/admin',
  /** Sign-in, coming back to `returnTo` (a path on this site) afterwards. */
  signIn: (returnTo?: string) =>
    returnTo && returnTo !== '/' ? `/auth/login?returnTo=${enc(returnTo)}` : '/auth/login',
  signOut: '/auth/logout',
} as const;

/** `https://meldinger.example` + `/announcements/…`, for links that leave the site (e-mails, feeds, push). */
export function absoluteUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}

/**
 * A path on this site to go back to after a form (language choice, sign-in), or `/` when the value is anything else
 * (absolute URLs, `//other.example`, backslashes): an open redirect would let a link send people elsewhere.
 */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  // Control characters have no business in a path (and would split a Location header).
  for (const character of value) {
    const code = character.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return '/';
  }
  return value;
}

/** The same path without `lang=` (the language switch must not carry the old choice along). */
export function withoutLanguageParameter(path: string): string {
  const [pathname, query] = path.split('?', 2) as [string, string | undefined];
  if (!query) return pathname;
  const params = new URLSearchParams(query);
  params.delete('lang');
  const rest = params.toString();
  return rest ? `${pathname}?${rest}` : pathname;
}
