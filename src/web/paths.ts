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
  /** POST: subscribe, change the e-mail mode, or unsubscribe (signed in). */
  channelSubscription: (slug: string) => `/channels/${enc(slug)}/subscription`,
  /** POST: the e-mail-only subscription form of a public channel (double opt-in). */
  channelEmailSubscription: (slug: string) => `/channels/${enc(slug)}/email-subscription`,
  announcement: (id: string) => `/announcements/${enc(id)}`,
  /** POST: the reader's 1–5 rating. */
  announcementRating: (id: string) => `/announcements/${enc(id)}/rating`,
  /** POST: "I have read this". */
  announcementAcknowledgement: (id: string) => `/announcements/${enc(id)}/acknowledgement`,
  /** The maintenance window as iCalendar (the API's file download). */
  announcementCalendar: (id: string) => `/api/v1/announcements/${enc(id)}/calendar.ics`,
  search: '/search',
  myFeed: '/me/feed',
  /** POST: mark one announcement of my feed read (`read=false`: unread). */
  myFeedRead: (id: string) => `/me/feed/${enc(id)}/read`,
  /** POST: mark everything in my feed read. */
  myFeedReadAll: '/me/feed/read-all',
  /** GET: my subscriptions; POST: save their choices (e-mail mode, language, push), or leave one. */
  mySubscriptions: '/me/subscriptions',
  myAccount: '/me/account',
  /** POST: create an API token (its secret is shown once). */
  myTokens: '/me/account/tokens',
  /** POST: revoke one. */
  myTokenRevoke: (id: string) => `/me/account/tokens/${enc(id)}/revoke`,
  /** POST: create a personal feed URL. */
  myFeedUrls: '/me/account/feed-urls',
  myFeedUrlRevoke: (id: string) => `/me/account/feed-urls/${enc(id)}/revoke`,
  /** GET: the confirmation step; POST: delete the account. */
  myAccountDeletion: '/me/account/delete',
  /** Everything the service holds about me, as a JSON file (the API's download). */
  myDataExport: '/api/v1/me/export',
  /** The pages behind the links in e-mails (token in the query). */
  emailConfirmation: '/subscriptions/confirm',
  unsubscribe: '/unsubscribe',
  publish: '/publish',
  /** The publishers' pages of one announcement or channel (src/http/routes/web/publisher/). */
  newAnnouncement: (slug: string) => `/channels/${enc(slug)}/announcements/new`,
  editAnnouncement: (id: string) => `/announcements/${enc(id)}/edit`,
  announcementDeliveries: (id: string) => `/announcements/${enc(id)}/deliveries`,
  retractAnnouncement: (id: string) => `/announcements/${enc(id)}/retract`,
  channelSettings: (slug: string) => `/channels/${enc(slug)}/settings`,
  /** The editor's live preview: POST a Markdown body, get the sanitised HTML the readers will see. */
  markdownPreview: '/publish/preview',
  /** The administrators' pages (src/http/routes/web/admin/). */
  admin: '/admin',
  /** GET: every channel with its owners; POST: create one. */
  adminChannels: '/admin/channels',
  /** One channel's owners (POST `/owners`: make one, `/owners/remove`: unmake one). */
  adminChannel: (slug: string) => `/admin/channels/${enc(slug)}`,
  /** GET: the confirmation step; POST: delete the channel. */
  adminChannelDeletion: (slug: string) => `/admin/channels/${enc(slug)}/delete`,
  /** GET: the member organisations and their realms; POST: add one. */
  adminOrganisations: '/admin/organisations',
  /** GET|POST: change one's name or realm. */
  adminOrganisation: (code: string) => `/admin/organisations/${enc(code)}`,
  /** GET: find people (?q=, ?admins=1). */
  adminUsers: '/admin/users',
  /** One person: organisation, admin flag, channel roles (POST `/roles`, `/roles/revoke`, `/admin`). */
  adminUser: (id: string) => `/admin/users/${enc(id)}`,
  /** GET: every API token (?user=<id>: one person's). */
  adminTokens: '/admin/tokens',
  /** GET: the confirmation step; POST: revoke the token. */
  adminTokenRevocation: (id: string) => `/admin/tokens/${enc(id)}/revoke`,
  /** GET: the audit log with filters and keyset paging. */
  adminAudit: '/admin/audit',
  /** GET: look up one address on the e-mail suppression list (?email=). */
  adminSuppressions: '/admin/suppressions',
  /** GET: the delivery queues and the ledger. */
  adminQueues: '/admin/queues',
  /** GET: one queue's failed jobs. */
  adminQueue: (name: string) => `/admin/queues/${enc(name)}`,
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
