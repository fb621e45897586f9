/**
 * A channel's settings, for its owners and administrators: name, description and visibility; who publishes there
 * (give the publisher role by e-mail address or Feide id, remove a role); and its webhooks (add one — its secret is
 * shown once, on the page that answers the form —, make a new secret, delete). Every change is a POST form.
 */
import { CHANNEL_VISIBILITIES, type ChannelVisibility } from '../../../domain/types.js';
import type { ChannelRoleView } from '../../../services/channel-settings.js';
import type { WebhookView } from '../../../services/webhooks.js';
import { WEBHOOK_EVENT_TYPES } from '../../../webhooks/events.js';
import { WEBHOOK_FORMATS } from '../../../webhooks/formats.js';
import {
  Alert,
  Button,
  ChoiceGroup,
  CsrfField,
  ErrorSummary,
  type FieldErrors,
  SelectField,
  TextArea,
  TextField,
} from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { Layout, PageHeading } from '../../layout.js';
import { WEB_PATHS } from '../../paths.js';

export interface ChannelSettingsValues {
  title: string;
  description: string;
  visibility: ChannelVisibility;
  person: string;
  role: 'publisher' | 'owner';
  webhookUrl: string;
  webhookFormat: string;
  webhookDescription: string;
  webhookEvents: string[];
}

export interface ChannelSettingsPageProps {
  ctx: PageContext;
  channel: { slug: string; title: string };
  values: ChannelSettingsValues;
  roles: readonly ChannelRoleView[];
  webhooks: readonly WebhookView[];
  /** Administrators may give and take the owner role. */
  canManageOwners: boolean;
  errors?: FieldErrors;
  /** A webhook's secret, shown once: right after it was made. */
  secret?: { url: string; secret: string };
  notice?: { color: 'success' | 'warning'; text: string };
}

const EVENT_LABELS = {
  'announcement.published': 'publisher.settings.event.published',
  'announcement.updated': 'publisher.settings.event.updated',
  'announcement.retracted': 'publisher.settings.event.retracted',
} as const;

export function ChannelSettingsPage(props: ChannelSettingsPageProps) {
  const { ctx, channel, values, roles, webhooks } = props;
  const errors = props.errors ?? {};
  const t = ctx.t;
  const title = t('publisher.settings.title', { channel: channel.title });
  const base = WEB_PATHS.channelSettings(channel.slug);
  return (
    <Layout ctx={ctx} title={title} current="publish">
      <PageHeading title={title} />
      <ErrorSummary ctx={ctx} errors={props.errors} />
      {props.notice ? (
        <Alert color={props.notice.color} role="status">
          {props.notice.text}
        </Alert>
      ) : null}
      {props.secret ? (
        <section aria-labelledby="secret-heading" class="ds-alert mk-stack" data-color="warning" role="status">
          <h2 class="ds-heading" data-size="xs" id="secret-heading">
            {t('publisher.settings.secretHeading')}
          </h2>
          <p class="ds-paragraph">{t('publisher.settings.secretText')}</p>
          <p class="ds-paragraph">{t('publisher.settings.secretFor', { url: props.secret.url })}</p>
          <p class="ds-paragraph">
            <code class="mk-secret" data-testid="webhook-secret">
              {props.secret.secret}
            </code>
          </p>
        </section>
      ) : null}

      <section aria-labelledby="general-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="general-heading">
          {t('publisher.settings.general')}
        </h2>
        <form method="post" action={base} class="mk-stack" noValidate>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="title"
            label={t('publisher.settings.name')}
            value={values.title}
            error={errors.title}
            maxLength={200}
          />
          <TextArea
            ctx={ctx}
            name="description"
            label={t('publisher.settings.description')}
            optional
            value={values.description}
            error={errors.description}
            rows={3}
            maxLength={2000}
          />
          <ChoiceGroup
            ctx={ctx}
            name="visibility"
            type="radio"
            legend={t('publisher.settings.visibility')}
            value={values.visibility}
            error={errors.visibility}
            choices={CHANNEL_VISIBILITIES.map((visibility) => ({
              value: visibility,
              label: t(`publisher.settings.visibility.${visibility}`),
            }))}
          />
          <Button>{t('publisher.settings.save')}</Button>
        </form>
      </section>

      <section aria-labelledby="people-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="people-heading">
          {t('publisher.settings.people')}
        </h2>
        <p class="ds-paragraph">{t('publisher.settings.peopleHelp')}</p>
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{t('publisher.settings.peopleCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('publisher.col.person')}</th>
                <th scope="col">{t('publisher.col.role')}</th>
                <th scope="col">{t('publisher.col.since')}</th>
                <th scope="col">{t('publisher.col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {roles.map((role) => (
                <tr key={role.userId}>
                  <th scope="row">{role.displayName}</th>
                  <td>
                    {t(role.role === 'owner' ? 'publisher.settings.roleOwner' : 'publisher.settings.rolePublisher')}
                  </td>
                  <td>{ctx.date(new Date(role.grantedAt))}</td>
                  <td>
                    {role.role === 'publisher' || props.canManageOwners ? (
                      <form method="post" action={`${base}/roles/revoke`}>
                        <CsrfField ctx={ctx} />
                        <input type="hidden" name="userId" value={role.userId} />
                        <Button variant="tertiary" data-size="sm">
                          {t('publisher.settings.revoke', { name: role.displayName })}
                        </Button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <form method="post" action={`${base}/roles`} class="mk-stack" noValidate aria-labelledby="grant-heading">
          <h3 class="ds-heading" data-size="xs" id="grant-heading">
            {t('publisher.settings.grant')}
          </h3>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="person"
            type="email"
            autocomplete="off"
            label={t('publisher.settings.person')}
            description={t('publisher.settings.personHelp')}
            value={values.person}
            error={errors.person}
            maxLength={254}
          />
          {props.canManageOwners ? (
            <SelectField
              ctx={ctx}
              name="role"
              label={t('publisher.settings.role')}
              value={values.role}
              error={errors.role}
              choices={[
                { value: 'publisher', label: t('publisher.settings.rolePublisher') },
                { value: 'owner', label: t('publisher.settings.roleOwner') },
              ]}
            />
          ) : (
            <input type="hidden" name="role" value="publisher" />
          )}
          <Button variant="secondary">{t('publisher.settings.grantButton')}</Button>
        </form>
      </section>

      <section aria-labelledby="webhooks-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="webhooks-heading">
          {t('publisher.settings.webhooks')}
        </h2>
        <p class="ds-paragraph">{t('publisher.settings.webhooksHelp')}</p>
        {webhooks.length === 0 ? (
          <p class="ds-paragraph">{t('publisher.settings.webhooksNone')}</p>
        ) : (
          <ul class="mk-publish-list">
            {webhooks.map((webhook) => (
              <li key={webhook.id} class="ds-card mk-stack" data-testid="webhook">
                <p class="ds-paragraph">
                  <code class="mk-secret">{webhook.url}</code>
                </p>
                <p class="mk-meta">
                  <span>{t(`publisher.settings.format.${webhook.format}`)}</span>
                  <span>
                    {webhook.events
                      .map((event) =>
                        t(EVENT_LABELS[event as keyof typeof EVENT_LABELS] ?? 'publisher.settings.webhookEvents'),
                      )
                      .join(', ')}
                  </span>
                  <span>
                    {t(webhook.enabled ? 'publisher.settings.webhookEnabled' : 'publisher.settings.webhookDisabled')}
                  </span>
                  {webhook.consecutiveFailures > 0 ? (
                    <span>{t('publisher.settings.webhookFailures', { count: webhook.consecutiveFailures })}</span>
                  ) : null}
                  {webhook.lastSuccessAt ? (
                    <span>
                      {t('publisher.settings.webhookLastSuccess', {
                        time: ctx.dateTime(new Date(webhook.lastSuccessAt)),
                      })}
                    </span>
                  ) : null}
                </p>
                {webhook.description ? <p class="ds-paragraph">{webhook.description}</p> : null}
                <div class="mk-inline">
                  <form method="post" action={`${base}/webhooks/${webhook.id}/rotate`}>
                    <CsrfField ctx={ctx} />
                    <Button variant="secondary" data-size="sm">
                      {t('publisher.settings.webhookRotate', { url: webhook.url })}
                    </Button>
                  </form>
                  <form method="post" action={`${base}/webhooks/${webhook.id}/delete`}>
                    <CsrfField ctx={ctx} />
                    <Button variant="tertiary" data-size="sm" data-color="danger">
                      {t('publisher.settings.webhookDelete', { url: webhook.url })}
                    </Button>
                  </form>
                </div>
              </li>
            ))}
          </ul>
        )}
        <form
          method="post"
          action={`${base}/webhooks`}
          class="mk-stack"
          noValidate
          aria-labelledby="webhook-add-heading"
        >
          <h3 class="ds-heading" data-size="xs" id="webhook-add-heading">
            {t('publisher.settings.webhookAdd')}
          </h3>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="webhookUrl"
            type="url"
            label={t('publisher.settings.webhookUrl')}
            value={values.webhookUrl}
            error={errors.webhookUrl}
            maxLength={2048}
          />
          <SelectField
            ctx={ctx}
            name="webhookFormat"
            label={t('publisher.settings.webhookFormat')}
            value={values.webhookFormat}
            error={errors.webhookFormat}
            choices={WEBHOOK_FORMATS.map((format) => ({
              value: format,
              label: t(`publisher.settings.format.${format}`),
            }))}
          />
          <ChoiceGroup
            ctx={ctx}
            name="webhookEvents"
            type="checkbox"
            legend={t('publisher.settings.webhookEvents')}
            value={values.webhookEvents}
            error={errors.webhookEvents}
            choices={WEBHOOK_EVENT_TYPES.map((event) => ({ value: event, label: t(EVENT_LABELS[event]) }))}
          />
          <TextField
            ctx={ctx}
            name="webhookDescription"
            label={t('publisher.settings.webhookDescription')}
            optional
            value={values.webhookDescription}
            error={errors.webhookDescription}
            maxLength={500}
          />
          <Button variant="secondary">{t('publisher.settings.webhookCreate')}</Button>
        </form>
      </section>
    </Layout>
  );
}
