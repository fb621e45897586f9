/**
 * A channel's settings page (src/web/pages/publisher/channel-settings.tsx), thin over src/services/channel-settings.ts
 * (settings and roles) and src/services/webhooks.ts:
 *
 * - `GET|POST /channels/:slug/settings` — name, description, visibility;
 * - `POST /channels/:slug/settings/roles` and `/roles/revoke` — give a person (by e-mail address or Feide id) a role,
 *   take it away;
 * - `POST /channels/:slug/settings/webhooks`, `/webhooks/:id/rotate`, `/webhooks/:id/delete`.
 *
 * Owners and administrators; anyone else gets what the API answers (404 for a channel they may not see, 403 for one
 * they may not manage). A webhook's secret is shown on the page that answers its creation or rotation (200): it is
 * never stored readable, so it cannot travel through a redirect.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findChannelBySlug } from '../../../../db/channels.js';
import { actsAsAdmin } from '../../../../domain/access.js';
import { isAppError, notFound } from '../../../../domain/errors.js';
import { CHANNEL_VISIBILITIES, type ChannelVisibility } from '../../../../domain/types.js';
import { announceAccessChange } from '../../../../realtime/access-hints.js';
import type { Caller } from '../../../../services/caller.js';
import {
  listChannelRoles,
  revokeChannelRole,
  setChannelRole,
  updateChannel,
} from '../../../../services/channel-settings.js';
import { findPersonByAddress } from '../../../../services/publishing.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  rotateWebhookSecret,
  type WebhookWithSecret,
} from '../../../../services/webhooks.js';
import type { PageContext } from '../../../../web/context.js';
import type { MessageKey } from '../../../../web/i18n/catalogue.js';
import {
  ChannelSettingsPage,
  type ChannelSettingsPageProps,
  type ChannelSettingsValues,
} from '../../../../web/pages/publisher/channel-settings.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { parseAllowlist } from '../../../../webhooks/addresses.js';
import { DEFAULT_WEBHOOK_EVENTS, type WebhookEventType } from '../../../../webhooks/events.js';
import type { WebhookFormat } from '../../../../webhooks/formats.js';
import { createWebhookHttpClient } from '../../../../webhooks/http-client.js';
import { formString, formStrings } from '../../../form-body.js';
import { POLICY } from '../../../policy.js';
import { UpdateChannelBody } from '../../../schemas/channel-settings.js';
import { CreateWebhookBody } from '../../../schemas/webhooks.js';
import type { WebRouteOptions } from '../index.js';
import { FormProblems } from './editor-form.js';
import { idParam, requireViewer, savedNotice, slugOf } from './page-helpers.js';

export async function channelSettingsPages(app: FastifyInstance, options: WebRouteOptions): Promise<void> {
  const { db, config, redis } = options;
  const channelDeps = {
    db,
    announceAccessChange: (hint: Parameters<typeof announceAccessChange>[2]) =>
      announceAccessChange(redis, config.redis.prefix, hint),
  };
  const webhookDeps = {
    db,
    publicUrl: config.http.publicUrl,
    client: createWebhookHttpClient({
      allowlist: parseAllowlist(config.webhooks.allowedHosts),
      timeoutMs: config.webhooks.timeoutMs,
    }),
  };
  const route = { config: { policy: POLICY.signedIn, page: true as const }, schema: { hide: true } };
  const callerOf = (ctx: PageContext, request: FastifyRequest): Caller => ({
    actor: ctx.actor,
    credential: 'session',
    requestId: request.id,
  });

  /** Renders the page with the channel as it is now; `values` are what the forms show (typed or stored). */
  async function render(
    reply: FastifyReply,
    ctx: PageContext,
    request: FastifyRequest,
    slug: string,
    extra: Partial<Pick<ChannelSettingsPageProps, 'errors' | 'secret' | 'notice'>> & {
      values?: Partial<ChannelSettingsValues>;
    } = {},
    status = 200,
  ) {
    const caller = callerOf(ctx, request);
    // listChannelRoles decides who may see this page (404 / 403 as the API).
    const roles = await listChannelRoles(channelDeps, caller, slug);
    const channel = await findChannelBySlug(db, slug, ctx.actor);
    if (!channel) throw notFound('Channel');
    const webhooks = await listWebhooks(webhookDeps, caller, slug);
    const values: ChannelSettingsValues = {
      title: channel.title,
      description: channel.description,
      visibility: channel.visibility,
      person: '',
      role: 'publisher',
      webhookUrl: '',
      webhookFormat: 'standard',
      webhookDescription: '',
      webhookEvents: [...DEFAULT_WEBHOOK_EVENTS],
      ...extra.values,
    };
    const notice = extra.notice ?? savedNotice(ctx, request);
    return sendPage(
      reply,
      ctx,
      <ChannelSettingsPage
        ctx={ctx}
        channel={{ slug: channel.slug, title: channel.title }}
        values={values}
        roles={roles}
        webhooks={webhooks}
        canManageOwners={actsAsAdmin(ctx.actor)}
        {...(extra.errors ? { errors: extra.errors } : {})}
        {...(extra.secret ? { secret: extra.secret } : {})}
        {...(notice ? { notice } : {})}
      />,
      { status },
    );
  }

  const done = (reply: FastifyReply, slug: string, saved: string) =>
    reply.header('cache-control', 'no-store').redirect(`${WEB_PATHS.channelSettings(slug)}?saved=${saved}`, 303);

  /** A form's problems on its fields: schema problems by path, service refusals by their `field`. */
  function schemaProblems(
    request: FastifyRequest,
    schema: typeof UpdateChannelBody | typeof CreateWebhookBody,
    input: Record<string, unknown>,
    fields: Record<string, { field: string; key: MessageKey }>,
    problems: FormProblems,
  ) {
    const validate = request.compileValidationSchema(schema, 'body');
    if (validate(input)) return;
    for (const error of validate.errors ?? []) {
      const name = (error.instancePath.split('/')[1] ?? '').replace(/~1/g, '/');
      const target = fields[name] ?? fields[''];
      if (target) problems.add(target.field, target.key);
    }
  }

  function serviceProblem(
    error: unknown,
    fields: Record<string, { field: string; key: MessageKey }>,
    problems: FormProblems,
    byCode: Partial<Record<string, { field: string; key: MessageKey }>> = {},
  ) {
    if (!isAppError(error)) throw error;
    const named = (error.details as { field?: unknown } | undefined)?.field;
    const target =
      byCode[error.code] ??
      (typeof named === 'string' ? fields[named] : undefined) ??
      (error.code === 'validation_failed' ? fields[''] : undefined);
    if (!target) throw error;
    problems.add(target.field, target.key);
  }

  app.get('/channels/:slug/settings', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    return render(reply, ctx, request, slugOf(request));
  });

  const SETTINGS_FIELDS: Record<string, { field: string; key: MessageKey }> = {
    title: { field: 'title', key: 'publisher.error.name' },
    description: { field: 'description', key: 'publisher.error.description' },
    visibility: { field: 'visibility', key: 'publisher.error.choice' },
    '': { field: 'title', key: 'publisher.error.name' },
  };

  app.post('/channels/:slug/settings', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const slug = slugOf(request);
    const visibility = formString(request.body, 'visibility');
    const input = {
      title: formString(request.body, 'title') ?? '',
      description: formString(request.body, 'description') ?? '',
      ...(visibility !== undefined ? { visibility } : {}),
    };
    const problems = new FormProblems(ctx.t);
    if (visibility !== undefined && !(CHANNEL_VISIBILITIES as readonly string[]).includes(visibility)) {
      problems.add('visibility', 'publisher.error.choice');
    }
    schemaProblems(request, UpdateChannelBody, input, SETTINGS_FIELDS, problems);
    if (problems.empty) {
      try {
        await updateChannel(channelDeps, callerOf(ctx, request), slug, {
          title: input.title,
          description: input.description,
          ...(visibility ? { visibility: visibility as ChannelVisibility } : {}),
        });
        return done(reply, slug, 'settings');
      } catch (error) {
        serviceProblem(error, SETTINGS_FIELDS, problems);
      }
    }
    return render(
      reply,
      ctx,
      request,
      slug,
      {
        values: {
          title: input.title,
          description: input.description,
          ...(visibility ? { visibility: visibility as ChannelVisibility } : {}),
        },
        errors: problems.fieldErrors,
      },
      400,
    );
  });

  const PERSON_FIELDS: Record<string, { field: string; key: MessageKey }> = {
    person: { field: 'person', key: 'publisher.error.person' },
    '': { field: 'person', key: 'publisher.error.person' },
  };

  app.post('/channels/:slug/settings/roles', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const slug = slugOf(request);
    const person = formString(request.body, 'person') ?? '';
    const role = formString(request.body, 'role') === 'owner' ? 'owner' : 'publisher';
    const problems = new FormProblems(ctx.t);
    try {
      const found = await findPersonByAddress(db, person);
      await setChannelRole(channelDeps, callerOf(ctx, request), { slug, userId: found.id, role });
      return done(reply, slug, 'granted');
    } catch (error) {
      // A person nobody knows is a problem of the form; a channel nobody may see is not (the error page says so).
      if (
        isAppError(error) &&
        error.code === 'not_found' &&
        (error.details as { field?: unknown })?.field === 'person'
      ) {
        problems.add('person', 'publisher.error.personUnknown');
      } else if (isAppError(error) && error.code === 'conflict') {
        problems.add('person', 'publisher.error.personAmbiguous');
      } else if (isAppError(error) && error.code === 'forbidden' && role === 'owner') {
        problems.add('role', 'publisher.error.ownerOnlyAdmin');
      } else if (isAppError(error) && error.code === 'forbidden' && /owner role/.test(error.message)) {
        problems.add('person', 'publisher.error.ownerOnlyAdmin');
      } else {
        serviceProblem(error, PERSON_FIELDS, problems);
      }
    }
    return render(reply, ctx, request, slug, { values: { person, role }, errors: problems.fieldErrors }, 400);
  });

  app.post('/channels/:slug/settings/roles/revoke', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const slug = slugOf(request);
    const userId = formString(request.body, 'userId') ?? '';
    if (!/^[0-9a-f-]{36}$/i.test(userId)) throw notFound('Role');
    await revokeChannelRole(channelDeps, callerOf(ctx, request), { slug, userId });
    return done(reply, slug, 'revoked');
  });

  const WEBHOOK_FIELDS: Record<string, { field: string; key: MessageKey }> = {
    url: { field: 'webhookUrl', key: 'publisher.error.webhookUrl' },
    format: { field: 'webhookFormat', key: 'publisher.error.choice' },
    description: { field: 'webhookDescription', key: 'publisher.error.description' },
    events: { field: 'webhookEvents', key: 'publisher.error.webhookEvents' },
    '': { field: 'webhookUrl', key: 'publisher.error.webhookUrl' },
  };

  async function showSecret(
    reply: FastifyReply,
    ctx: PageContext,
    request: FastifyRequest,
    webhook: WebhookWithSecret,
    notice?: MessageKey,
  ) {
    return render(reply, ctx, request, webhook.channel, {
      secret: { url: webhook.url, secret: webhook.secret },
      ...(notice ? { notice: { color: 'success', text: ctx.t(notice) } } : {}),
    });
  }

  app.post('/channels/:slug/settings/webhooks', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const slug = slugOf(request);
    const values = {
      webhookUrl: formString(request.body, 'webhookUrl') ?? '',
      webhookFormat: formString(request.body, 'webhookFormat') ?? 'standard',
      webhookDescription: formString(request.body, 'webhookDescription') ?? '',
      webhookEvents: formStrings(request.body, 'webhookEvents'),
    };
    const input = {
      url: values.webhookUrl,
      format: values.webhookFormat,
      ...(values.webhookDescription.trim() ? { description: values.webhookDescription } : {}),
      events: values.webhookEvents,
    };
    const problems = new FormProblems(ctx.t);
    if (values.webhookEvents.length === 0) problems.add('webhookEvents', 'publisher.error.webhookEvents');
    schemaProblems(request, CreateWebhookBody, input, WEBHOOK_FIELDS, problems);
    if (problems.empty) {
      try {
        const created = await createWebhook(webhookDeps, callerOf(ctx, request), slug, {
          url: input.url,
          format: input.format as WebhookFormat,
          events: input.events as WebhookEventType[],
          ...(input.description ? { description: input.description } : {}),
        });
        return showSecret(reply, ctx, request, created);
      } catch (error) {
        serviceProblem(error, WEBHOOK_FIELDS, problems, {
          conflict: { field: 'webhookUrl', key: 'publisher.error.webhookLimit' },
        });
      }
    }
    return render(reply, ctx, request, slug, { values, errors: problems.fieldErrors }, 400);
  });

  app.post('/channels/:slug/settings/webhooks/:id/rotate', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const rotated = await rotateWebhookSecret(webhookDeps, callerOf(ctx, request), idParam(request, 'Webhook'));
    return showSecret(reply, ctx, request, rotated, 'publisher.saved.rotated');
  });

  app.post('/channels/:slug/settings/webhooks/:id/delete', route, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const id = idParam(request, 'Webhook');
    // The webhook's own channel decides (the service); the page goes back to the channel named in the address.
    await deleteWebhook(webhookDeps, callerOf(ctx, request), id);
    return done(reply, slugOf(request), 'webhookDeleted');
  });
}
