/**
 * A signed-in person's own pages: my feed (/me/feed) with read state, my subscriptions (/me/subscriptions), my
 * account (/me/account: API tokens, personal feed URLs, data download, deletion). Policy `self`: an anonymous GET is
 * sent to sign-in and back (src/http/plugins/web.ts); everything is read and changed through the same use cases as
 * /api/v1/me/…, with the session's caller, so their rules and audit records apply unchanged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../../domain/errors.js';
import {
  EMAIL_MODES,
  type EmailMode,
  LANGUAGES,
  type Language,
  TOKEN_SCOPES,
  type TokenScope,
} from '../../../domain/types.js';
import { type AccessHint, announceAccessChange } from '../../../realtime/access-hints.js';
import { announceReaderChange, type ReaderChange } from '../../../realtime/reader-changes.js';
import { createMyToken, listMyTokens, revokeMyToken } from '../../../services/api-tokens.js';
import { createMyFeedToken, listMyFeedTokens, revokeMyFeedToken } from '../../../services/feed-tokens.js';
import { channelTitlesOf } from '../../../services/latest.js';
import { ERASE_CONFIRMATION, eraseOwnAccount } from '../../../services/personal-data.js';
import { listMyPushSubscriptions } from '../../../services/push-subscriptions.js';
import { getUnreadCounts, listPersonalFeed, markAllAsRead, markRead, markUnread } from '../../../services/reading.js';
import { deleteMySubscription, listMySubscriptions, putMySubscription } from '../../../services/subscriptions.js';
import { allowedScopes } from '../../../services/tokens.js';
import type { FieldErrors } from '../../../web/components/forms.js';
import type { PageContext } from '../../../web/context.js';
import {
  ACCOUNT_DONE,
  DeleteAccountPage,
  MyAccountPage,
  type MyAccountPageProps,
} from '../../../web/pages/my-account.js';
import { FEED_DONE, MyFeedPage } from '../../../web/pages/my-feed.js';
import { MySubscriptionsPage, SUBSCRIPTIONS_DONE, subscriptionField } from '../../../web/pages/my-subscriptions.js';
import { safeReturnPath, WEB_PATHS } from '../../../web/paths.js';
import { sendPage } from '../../../web/render.js';
import { callerOf } from '../../caller.js';
import { formString, formStrings } from '../../form-body.js';
import { clearSessionCookie } from '../../plugins/auth.js';
import { POLICY } from '../../policy.js';
import type { WebRouteOptions } from './index.js';
import { doneParam, errorField, queryParam, withDone } from './page-input.js';

/** Items per page of my feed. */
export const FEED_PAGE_SIZE = 20;

const self = { policy: POLICY.self, page: true } as const;
const hidden = { hide: true } as const;

type IdParams = { Params: { id: string } };

export async function myPages(app: FastifyInstance, { db, config, redis }: WebRouteOptions): Promise<void> {
  const publicUrl = config.http.publicUrl;
  // Revoking a token or deleting the account ends live connections at once, in every API process (as the API does).
  const announceAccess = (hint: AccessHint) => announceAccessChange(redis, config.redis.prefix, hint);
  // Read-state changes reach the reader's other tabs and devices (their live connections), as from the API.
  const readState = {
    db,
    announceReaderChange: (change: ReaderChange) => announceReaderChange(redis, config.redis.prefix, change),
  };

  // ---- my feed ----------------------------------------------------------------------------------------------

  app.get(WEB_PATHS.myFeed, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const cursor = queryParam(request, 'cursor');
    const [feed, unread, subscriptions] = await Promise.all([
      listPersonalFeed({ db, publicUrl }, ctx.actor, {
        limit: FEED_PAGE_SIZE,
        ...(cursor ? { cursor } : {}),
        readerLanguage: ctx.language,
      }),
      getUnreadCounts({ db }, ctx.actor),
      listMySubscriptions({ db }, ctx.actor),
    ]);
    const titles = await channelTitlesOf(db, [
      ...feed.items.map((item) => item.channel),
      ...subscriptions.map((subscription) => subscription.channel),
    ]);
    return sendPage(
      reply,
      ctx,
      <MyFeedPage
        ctx={ctx}
        items={feed.items.map((item) => ({ ...item, channelTitle: titles.get(item.channel) ?? item.channel }))}
        nextCursor={feed.nextCursor}
        onLaterPage={cursor !== undefined}
        unread={unread}
        subscribedChannels={subscriptions.map((subscription) => subscription.channel)}
        done={doneParam(request, FEED_DONE)}
      />,
    );
  });

  // Mark one announcement read (read=true) or unread (read=false), from my feed or the announcement's page.
  app.post<IdParams>('/me/feed/:id/read', { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const read = formString(request.body, 'read') !== 'false';
    if (read) await markRead(readState, ctx.actor, request.params.id);
    else await markUnread(readState, ctx.actor, request.params.id);
    const back = safeReturnPath(formString(request.body, 'returnTo') ?? WEB_PATHS.myFeed);
    return reply.redirect(withDone(back, read ? 'read' : 'unread'), 303);
  });

  app.post(WEB_PATHS.myFeedReadAll, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    await markAllAsRead(readState, ctx.actor, {});
    return reply.redirect(withDone(WEB_PATHS.myFeed, 'all-read'), 303);
  });

  // ---- my subscriptions -------------------------------------------------------------------------------------

  async function sendSubscriptionsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: PageContext,
    invalid?: { submitted: Record<string, string>; errors: FieldErrors },
  ) {
    const [subscriptions, browsers] = await Promise.all([
      listMySubscriptions({ db }, ctx.actor),
      listMyPushSubscriptions({ db }, ctx.actor),
    ]);
    const titles = await channelTitlesOf(
      db,
      subscriptions.map((subscription) => subscription.channel),
    );
    return sendPage(
      reply,
      ctx,
      <MySubscriptionsPage
        ctx={ctx}
        subscriptions={subscriptions.map((subscription) => ({
          ...subscription,
          channelTitle: titles.get(subscription.channel) ?? subscription.channel,
        }))}
        pushAvailable={config.push.vapid !== undefined}
        pushBrowsers={browsers.length}
        done={invalid ? undefined : doneParam(request, SUBSCRIPTIONS_DONE)}
        submitted={invalid?.submitted}
        errors={invalid?.errors}
      />,
      { status: invalid ? 400 : 200 },
    );
  }

  app.get(WEB_PATHS.mySubscriptions, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    return sendSubscriptionsPage(request, reply, ctx);
  });

  // Save every subscription's choices (the page's one form), or leave one (its own button: unsubscribe=<slug>).
  app.post(WEB_PATHS.mySubscriptions, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const leaving = formString(request.body, 'unsubscribe');
    if (leaving) {
      await deleteMySubscription({ db }, ctx.actor, leaving).catch((error: unknown) => {
        if (!(isAppError(error) && error.code === 'not_found')) throw error;
      });
      return reply.redirect(withDone(WEB_PATHS.mySubscriptions, 'unsubscribed'), 303);
    }
    const subscriptions = await listMySubscriptions({ db }, ctx.actor);
    const submitted: Record<string, string> = {};
    const errors: Record<string, string> = {};
    // Only the subscriptions the form showed: one made in another tab meanwhile is not in it (and not turned off).
    const shown = subscriptions.filter(
      (subscription) => formString(request.body, subscriptionField.emailMode(subscription.channel)) !== undefined,
    );
    const changes = shown.map((subscription) => {
      const slug = subscription.channel;
      const emailMode = formString(request.body, subscriptionField.emailMode(slug)) ?? subscription.emailMode;
      const language = formString(request.body, subscriptionField.language(slug)) ?? subscription.language;
      const push = formString(request.body, subscriptionField.push(slug)) === 'on';
      submitted[subscriptionField.emailMode(slug)] = emailMode;
      submitted[subscriptionField.language(slug)] = language;
      if (push) submitted[subscriptionField.push(slug)] = 'on';
      if (!(EMAIL_MODES as readonly string[]).includes(emailMode)) {
        errors[subscriptionField.emailMode(slug)] = ctx.t('subscriptions.invalid');
      }
      if (!(LANGUAGES as readonly string[]).includes(language)) {
        errors[subscriptionField.language(slug)] = ctx.t('subscriptions.invalid');
      }
      return { subscription, choice: { emailMode: emailMode as EmailMode, language: language as Language, push } };
    });
    if (Object.keys(errors).length > 0) return sendSubscriptionsPage(request, reply, ctx, { submitted, errors });
    for (const { subscription, choice } of changes) {
      const changed =
        choice.emailMode !== subscription.emailMode ||
        choice.language !== subscription.language ||
        choice.push !== subscription.push;
      // Only what changed is saved: choosing e-mail again is the act that lifts a suppression (putMySubscription).
      if (changed) {
        await putMySubscription({ db }, ctx.actor, subscription.channel, {
          ...(choice.emailMode !== subscription.emailMode ? { emailMode: choice.emailMode } : {}),
          language: choice.language,
          push: choice.push,
        });
      }
    }
    return reply.redirect(withDone(WEB_PATHS.mySubscriptions, 'saved'), 303);
  });

  // ---- my account -------------------------------------------------------------------------------------------

  async function sendAccountPage(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: PageContext,
    extra: Pick<MyAccountPageProps, 'newToken' | 'newFeedToken' | 'tokenForm'> = {},
    status = 200,
  ) {
    const caller = callerOf(request);
    const userId = caller.actor.kind === 'user' ? caller.actor.userId : '';
    const [user, tokens, feedTokens] = await Promise.all([
      db.user.findUniqueOrThrow({
        where: { id: userId },
        select: { displayName: true, email: true, isAdmin: true, organisation: { select: { name: true } } },
      }),
      listMyTokens({ db }, caller),
      listMyFeedTokens({ db }, caller),
    ]);
    return sendPage(
      reply,
      ctx,
      <MyAccountPage
        ctx={ctx}
        profile={{ displayName: user.displayName, email: user.email, organisation: user.organisation?.name ?? null }}
        tokens={tokens}
        allowedScopes={allowedScopes(user)}
        feedTokens={feedTokens}
        done={status === 200 && !extra.newToken && !extra.newFeedToken ? doneParam(request, ACCOUNT_DONE) : undefined}
        {...extra}
      />,
      { status },
    );
  }

  app.get(WEB_PATHS.myAccount, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    return sendAccountPage(request, reply, ctx);
  });

  // A new API token. The answer is the account page itself with the secret, not a redirect: the secret is shown
  // once, and a redirect would have to carry it in its address or store it (sendPage sends this no-store).
  app.post(WEB_PATHS.myTokens, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const name = formString(request.body, 'name') ?? '';
    const scopes = formStrings(request.body, 'scopes');
    const expiresInDays = formString(request.body, 'expiresInDays') ?? '';
    const errors: Record<string, string> = {};
    if (!name.trim()) errors.name = ctx.t('account.tokens.nameRequired');
    if (scopes.length === 0 || !scopes.every((scope) => (TOKEN_SCOPES as readonly string[]).includes(scope))) {
      errors.scopes = ctx.t('account.tokens.scopesRequired');
    }
    const days = Number(expiresInDays);
    if (!/^\d{1,3}$/.test(expiresInDays.trim()) || days < 1 || days > 365) {
      errors.expiresInDays = ctx.t('account.tokens.lifetimeInvalid');
    }
    const tokenForm = { name, scopes, expiresInDays, errors };
    if (Object.keys(errors).length > 0) return sendAccountPage(request, reply, ctx, { tokenForm }, 400);
    try {
      const newToken = await createMyToken({ db }, callerOf(request), {
        name,
        scopes: scopes as TokenScope[],
        expiresInDays: days,
      });
      return sendAccountPage(request, reply, ctx, { newToken });
    } catch (error) {
      const field = errorField(error);
      if (field !== 'name' && field !== 'scopes' && field !== 'expiresInDays') throw error;
      const message = {
        name: 'account.tokens.nameRequired',
        scopes: 'account.tokens.scopesRequired',
        expiresInDays: 'account.tokens.lifetimeInvalid',
      } as const;
      return sendAccountPage(
        request,
        reply,
        ctx,
        { tokenForm: { ...tokenForm, errors: { [field]: ctx.t(message[field]) } } },
        400,
      );
    }
  });

  app.post<IdParams>('/me/account/tokens/:id/revoke', { config: self, schema: hidden }, async (request, reply) => {
    await revokeMyToken({ db, announceAccessChange: announceAccess }, callerOf(request), request.params.id);
    return reply.redirect(withDone(WEB_PATHS.myAccount, 'token-revoked'), 303);
  });

  // A new personal feed URL: shown on the answer, once, like a new token.
  app.post(WEB_PATHS.myFeedUrls, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    const newFeedToken = await createMyFeedToken({ db, publicUrl }, callerOf(request));
    return sendAccountPage(request, reply, ctx, { newFeedToken });
  });

  app.post<IdParams>('/me/account/feed-urls/:id/revoke', { config: self, schema: hidden }, async (request, reply) => {
    await revokeMyFeedToken({ db }, callerOf(request), request.params.id);
    return reply.redirect(withDone(WEB_PATHS.myAccount, 'feed-url-revoked'), 303);
  });

  app.get(WEB_PATHS.myAccountDeletion, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    return sendPage(reply, ctx, <DeleteAccountPage ctx={ctx} />);
  });

  app.post(WEB_PATHS.myAccountDeletion, { config: self, schema: hidden }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    if (formString(request.body, 'confirm') !== 'yes') {
      return sendPage(
        reply,
        ctx,
        <DeleteAccountPage ctx={ctx} errors={{ confirm: ctx.t('account.delete.required') }} />,
        { status: 400 },
      );
    }
    if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', 'Deleting an account needs a signed-in user');
    const userId = ctx.actor.userId;
    await eraseOwnAccount({ db }, callerOf(request), ERASE_CONFIRMATION);
    // As DELETE /api/v1/me: the account's live connections lose their rights now, and the browser its cookie.
    await announceAccess({ userId });
    clearSessionCookie(reply);
    return reply.header('cache-control', 'no-store').redirect(withDone(WEB_PATHS.home, 'account-deleted'), 303);
  });
}
