/**
 * The pages everyone reads: the front page (/), the channel directory (/channels), a channel (/channels/{slug}) with
 * its subscription forms, an announcement (/announcements/{id}) with its rating and acknowledgement forms, and
 * search (/search). Thin: read through the services with the page's actor, render a page component. What the reader
 * may not see answers the same 404 page as what does not exist (the services decide, as for the API).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANNOUNCEMENT_TYPES, type AnnouncementType } from '../../../domain/announcement.js';
import { AppError, isAppError } from '../../../domain/errors.js';
import { EMAIL_MODES, type EmailMode, IMPORTANCES, type Importance } from '../../../domain/types.js';
import { resolveUnsubscribeKey } from '../../../mail/unsubscribe-token.js';
import { announceReaderChange, type ReaderChange } from '../../../realtime/reader-changes.js';
import { acknowledgeAnnouncement } from '../../../services/acknowledgements.js';
import { listDirectory, MAX_DIRECTORY_QUERY_LENGTH } from '../../../services/directory.js';
import { requestEmailSubscription } from '../../../services/email-subscriptions.js';
import { listLatestAnnouncements } from '../../../services/latest.js';
import { announcementPage, channelPage } from '../../../services/reader-pages.js';
import { rateAnnouncement } from '../../../services/reading.js';
import { MAX_SEARCH_QUERY_LENGTH, searchAnnouncements } from '../../../services/search.js';
import { deleteMySubscription, putMySubscription } from '../../../services/subscriptions.js';
import type { FieldErrors } from '../../../web/components/forms.js';
import type { PageContext } from '../../../web/context.js';
import { isSharedAddress, sendSharedPage } from '../../../web/page-cache.js';
import { ANNOUNCEMENT_DONE, AnnouncementPage } from '../../../web/pages/announcement.js';
import { CHANNEL_DONE, ChannelPage, type EmailSubscriptionForm } from '../../../web/pages/channel.js';
import { ChannelDirectoryPage } from '../../../web/pages/channels.js';
import { HomePage } from '../../../web/pages/home.js';
import { type SearchFilters, SearchPage } from '../../../web/pages/search.js';
import { WEB_PATHS } from '../../../web/paths.js';
import { sendPage } from '../../../web/render.js';
import { widgetSnippet } from '../../../web/widget-snippet.js';
import { callerOf } from '../../caller.js';
import { formString } from '../../form-body.js';
import { clientAddressKey } from '../../plugins/rate-limit.js';
import { POLICY } from '../../policy.js';
import { EMAIL_SUBSCRIBE_PER_IP_PER_HOUR } from '../email-subscriptions.js';
import type { WebRouteOptions } from './index.js';
import { doneParam, errorField, queryParam, withDone } from './page-input.js';

/** Latest announcements on the front page; the channels and search have the rest. */
export const HOME_LATEST_LIMIT = 10;
/** Channels listed on the front page; the filter narrows them, and the channel directory pages through the rest. */
export const HOME_CHANNEL_LIMIT = 20;
/** Items per page of the channel directory and of a channel's announcements. */
export const PAGE_SIZE = 20;
/** Search hits per page (a search answers at most SEARCH_RESULT_CAP over all its pages). */
export const SEARCH_PAGE_SIZE = 20;
/** Channels offered in the search form's channel filter. */
const SEARCH_CHANNEL_CHOICES = 100;

const page = { policy: POLICY.public, page: true } as const;
const hidden = { hide: true } as const;

type IdParams = { Params: { id: string } };
type SlugParams = { Params: { slug: string } };

/** The directory filter `q`: trimmed, absent when blank; too long is the page's 400. */
function directoryFilter(ctx: PageContext, request: FastifyRequest): string | undefined {
  const q = queryParam(request, 'q')?.trim() || undefined;
  if (q && q.length > MAX_DIRECTORY_QUERY_LENGTH) {
    throw new AppError('validation_failed', ctx.t('search.qTooLong', { max: MAX_DIRECTORY_QUERY_LENGTH }));
  }
  return q;
}

export async function readerPages(app: FastifyInstance, { db, config, queues, redis }: WebRouteOptions): Promise<void> {
  const publicUrl = config.http.publicUrl;
  const readDeps = { db, publicUrl, readCache: app.readCache };
  const viewerSecret = resolveUnsubscribeKey(config, app.log);
  const emailDeps = { db, confirmationQueue: queues.confirmation, logger: app.log };
  // An acknowledgement reaches the reader's other tabs and devices (their live connections), as from the API.
  const ackDeps = {
    db,
    announceReaderChange: (change: ReaderChange) => announceReaderChange(redis, config.redis.prefix, change),
  };

  app.get(WEB_PATHS.home, { config: page, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const q = directoryFilter(ctx, request);
    const [latest, channels] = await Promise.all([
      listLatestAnnouncements(readDeps, ctx.actor, { limit: HOME_LATEST_LIMIT, readerLanguage: ctx.language }),
      listDirectory(readDeps, ctx.actor, { limit: HOME_CHANNEL_LIMIT, q, readerLanguage: ctx.language }),
    ]);
    return sendPage(
      reply,
      ctx,
      <HomePage
        ctx={ctx}
        latest={latest.items}
        channels={channels.items}
        moreChannels={channels.nextCursor !== null}
        q={q}
        accountDeleted={!ctx.viewer && queryParam(request, 'done') === 'account-deleted'}
      />,
    );
  });

  app.get(WEB_PATHS.channels, { config: page, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const q = directoryFilter(ctx, request);
    const cursor = queryParam(request, 'cursor');
    const channels = await listDirectory(readDeps, ctx.actor, {
      limit: PAGE_SIZE,
      q,
      ...(cursor ? { cursor } : {}),
      readerLanguage: ctx.language,
    });
    return sendPage(
      reply,
      ctx,
      <ChannelDirectoryPage
        ctx={ctx}
        channels={channels.items}
        nextCursor={channels.nextCursor}
        onLaterPage={cursor !== undefined}
        q={q}
      />,
    );
  });

  /** The channel page for `ctx`, also as the answer of its forms when they come back invalid (400). */
  async function renderChannelPage(
    request: FastifyRequest,
    ctx: PageContext,
    slug: string,
    form: { emailForm?: EmailSubscriptionForm; subscribeErrors?: FieldErrors } = {},
  ) {
    const cursor = queryParam(request, 'cursor');
    const archive = queryParam(request, 'archive') === '1';
    const data = await channelPage(readDeps, ctx.actor, slug, {
      limit: PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
      archive,
      readerLanguage: ctx.language,
    });
    const invalid = form.emailForm !== undefined || form.subscribeErrors !== undefined;
    const page = (
      <ChannelPage
        ctx={ctx}
        data={data}
        archive={archive}
        onLaterPage={cursor !== undefined}
        done={invalid ? undefined : doneParam(request, CHANNEL_DONE)}
        emailForm={form.emailForm}
        subscribeErrors={form.subscribeErrors}
        widgetSnippet={
          data.channel.visibility === 'public'
            ? widgetSnippet({ publicUrl, channels: [data.channel.slug], lang: ctx.language })
            : undefined
        }
      />
    );
    return { page, data, status: invalid ? 400 : 200 };
  }

  async function sendChannelPage(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: PageContext,
    slug: string,
    form: { emailForm?: EmailSubscriptionForm; subscribeErrors?: FieldErrors } = {},
  ) {
    const { page, status } = await renderChannelPage(request, ctx, slug, form);
    return sendPage(reply, ctx, page, { status });
  }

  app.get<SlugParams>('/channels/:slug', { config: page, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const slug = request.params.slug;
    // The plain address, for an anonymous reader: the finished page from the read cache (src/web/page-cache.ts).
    if (!ctx.viewer && isSharedAddress(request.url, WEB_PATHS.channel(slug))) {
      return sendSharedPage(reply, ctx, app.readCache, request.url, async (shared) => {
        const { page, data } = await renderChannelPage(request, shared, slug);
        return { page, dependencies: [data.channel.id], changesAt: data.changesAt };
      });
    }
    return sendChannelPage(request, reply, ctx, slug);
  });

  // Subscribe, change the e-mail mode, or leave, with the account.
  app.post<SlugParams>(
    '/channels/:slug/subscription',
    { config: { policy: POLICY.self, page: true }, schema: hidden },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      const slug = request.params.slug;
      const action = formString(request.body, 'action');
      if (action === 'unsubscribe') {
        // Leaving twice (a double click, a second tab) leaves it left: no error for what the person wanted.
        await deleteMySubscription({ db }, ctx.actor, slug).catch((error: unknown) => {
          if (!(isAppError(error) && error.code === 'not_found')) throw error;
        });
        return reply.redirect(withDone(WEB_PATHS.channel(slug), 'unsubscribed'), 303);
      }
      const emailMode = formString(request.body, 'emailMode');
      if (!(EMAIL_MODES as readonly string[]).includes(emailMode ?? '')) {
        return sendChannelPage(request, reply, ctx, slug, {
          subscribeErrors: { emailMode: ctx.t('channel.emailSubscribe.invalidMode') },
        });
      }
      const { created } = await putMySubscription({ db }, ctx.actor, slug, { emailMode: emailMode as EmailMode });
      return reply.redirect(withDone(WEB_PATHS.channel(slug), created ? 'subscribed' : 'saved'), 303);
    },
  );

  // The e-mail-only subscription of a public channel (double opt-in): the same use case and limits as the API's.
  app.post<SlugParams>(
    '/channels/:slug/email-subscription',
    {
      config: {
        ...page,
        rateLimit: { max: EMAIL_SUBSCRIBE_PER_IP_PER_HOUR, timeWindow: 3_600_000, keyGenerator: clientAddressKey },
      },
      schema: hidden,
    },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      const slug = request.params.slug;
      const email = formString(request.body, 'email') ?? '';
      const emailMode = formString(request.body, 'emailMode') ?? '';
      const errors: Record<string, string> = {};
      if (!['immediate', 'daily', 'weekly'].includes(emailMode)) {
        errors.emailMode = ctx.t('channel.emailSubscribe.invalidMode');
      }
      if (Object.keys(errors).length === 0) {
        try {
          await requestEmailSubscription(emailDeps, callerOf(request), slug, {
            email,
            language: ctx.language,
            emailMode: emailMode as EmailMode,
          });
          return reply.redirect(withDone(WEB_PATHS.channel(slug), 'email-requested'), 303);
        } catch (error) {
          if (errorField(error) !== 'email') throw error;
          errors.email = ctx.t('channel.emailSubscribe.invalidEmail');
        }
      } else if (!email.trim()) {
        errors.email = ctx.t('channel.emailSubscribe.invalidEmail');
      }
      return sendChannelPage(request, reply, ctx, slug, { emailForm: { email, emailMode, errors } });
    },
  );

  /** The announcement page for `ctx`, also as the answer of the rating form when it comes back invalid (400). */
  async function renderAnnouncementPage(
    request: FastifyRequest<IdParams>,
    ctx: PageContext,
    options: { ratingErrors?: FieldErrors; withChangesAt?: boolean } = {},
  ) {
    const data = await announcementPage({ db, publicUrl, viewerSecret }, ctx.actor, request.params.id, ctx.language, {
      withChangesAt: options.withChangesAt ?? false,
    });
    const page = (
      <AnnouncementPage
        ctx={ctx}
        data={data}
        done={options.ratingErrors ? undefined : doneParam(request, ANNOUNCEMENT_DONE)}
        ratingErrors={options.ratingErrors}
      />
    );
    return { page, data };
  }

  async function sendAnnouncementPage(
    request: FastifyRequest<IdParams>,
    reply: FastifyReply,
    ctx: PageContext,
    ratingErrors?: FieldErrors,
  ) {
    const { page } = await renderAnnouncementPage(request, ctx, ratingErrors ? { ratingErrors } : {});
    return sendPage(reply, ctx, page, { status: ratingErrors ? 400 : 200 });
  }

  app.get<IdParams>('/announcements/:id', { config: page, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    // The plain address (or ?lang=), for an anonymous reader: the finished page from the read cache, as the channel's.
    if (!ctx.viewer && isSharedAddress(request.url, WEB_PATHS.announcement(request.params.id))) {
      return sendSharedPage(reply, ctx, app.readCache, request.url, async (shared, keeping) => {
        const { page, data } = await renderAnnouncementPage(request, shared, { withChangesAt: keeping });
        return { page, dependencies: [data.channel.id], changesAt: data.changesAt };
      });
    }
    return sendAnnouncementPage(request, reply, ctx);
  });

  app.post<IdParams>(
    '/announcements/:id/rating',
    { config: { policy: POLICY.signedIn, page: true }, schema: hidden },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      const stars = Number(formString(request.body, 'stars'));
      if (!Number.isInteger(stars) || stars < 1 || stars > 5) {
        return sendAnnouncementPage(request, reply, ctx, { stars: ctx.t('rating.required') });
      }
      await rateAnnouncement({ db }, ctx.actor, request.params.id, stars);
      return reply.redirect(withDone(WEB_PATHS.announcement(request.params.id), 'rated'), 303);
    },
  );

  app.post<IdParams>(
    '/announcements/:id/acknowledgement',
    { config: { policy: POLICY.signedIn, page: true }, schema: hidden },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      await acknowledgeAnnouncement(ackDeps, ctx.actor, request.params.id);
      return reply.redirect(withDone(WEB_PATHS.announcement(request.params.id), 'acknowledged'), 303);
    },
  );

  app.get(WEB_PATHS.search, { config: page, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const filters: SearchFilters = {
      q: queryParam(request, 'q')?.trim() ?? '',
      type: queryParam(request, 'type') ?? '',
      importance: queryParam(request, 'importance') ?? '',
      channel: queryParam(request, 'channel') ?? '',
    };
    const errors: Record<string, string> = {};
    if (filters.q.length > MAX_SEARCH_QUERY_LENGTH) {
      errors.q = ctx.t('search.qTooLong', { max: MAX_SEARCH_QUERY_LENGTH });
    }
    if (filters.type && !(ANNOUNCEMENT_TYPES as readonly string[]).includes(filters.type)) {
      errors.type = ctx.t('search.invalidChoice');
    }
    if (filters.importance && !(IMPORTANCES as readonly string[]).includes(filters.importance)) {
      errors.importance = ctx.t('search.invalidChoice');
    }
    const searching = filters.q !== '' && Object.keys(errors).length === 0;
    // Filters without words are a search not yet made: say what is missing rather than list nothing.
    if (!filters.q && (filters.type || filters.importance || filters.channel)) errors.q = ctx.t('search.qRequired');
    const cursor = queryParam(request, 'cursor');
    const [channels, results] = await Promise.all([
      listDirectory(readDeps, ctx.actor, { limit: SEARCH_CHANNEL_CHOICES, readerLanguage: ctx.language }),
      searching
        ? searchAnnouncements({ db, publicUrl }, ctx.actor, {
            q: filters.q,
            limit: SEARCH_PAGE_SIZE,
            ...(cursor ? { cursor } : {}),
            ...(filters.type ? { type: filters.type as AnnouncementType } : {}),
            ...(filters.importance ? { importance: filters.importance as Importance } : {}),
            ...(filters.channel ? { channel: filters.channel } : {}),
            readerLanguage: ctx.language,
          })
        : null,
    ]);
    const invalid = Object.keys(errors).length > 0;
    return sendPage(
      reply,
      ctx,
      <SearchPage
        ctx={ctx}
        filters={filters}
        channels={channels.items}
        hits={results?.items ?? null}
        nextCursor={results?.nextCursor ?? null}
        onLaterPage={cursor !== undefined}
        errors={invalid ? errors : undefined}
      />,
      { status: invalid ? 400 : 200 },
    );
  });
}
