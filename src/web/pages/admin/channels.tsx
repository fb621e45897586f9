/**
 * Channels for administrators: every channel with its visibility, owners and counts (/admin/channels, by slug, keyset
 * pages) and the form that creates one; one channel's owners and publishers (/admin/channels/{slug}: make someone
 * owner by e-mail address or Feide id, take the role away), with links to its page and its settings; and the
 * confirmation step of deleting it, where the administrator types the channel's slug.
 */
import { CHANNEL_VISIBILITIES, type ChannelVisibility } from '../../../domain/types.js';
import type { ChannelRoleView } from '../../../services/channel-settings.js';
import type { ChannelOverviewItem } from '../../../services/channels.js';
import type { ChannelView } from '../../../services/views.js';
import { KeysetPagination, withQuery } from '../../components/announcements.js';
import { Button, ChoiceGroup, CsrfField, type FieldErrors, TextArea, TextField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame, Facts, type Notice, PersonLink, VisibilityTag } from './shared.js';

export interface NewChannelValues {
  slug: string;
  title: string;
  description: string;
  visibility: ChannelVisibility;
}

export interface AdminChannelsPageProps {
  ctx: PageContext;
  channels: readonly ChannelOverviewItem[];
  nextCursor: string | null;
  onLaterPage: boolean;
  values: NewChannelValues;
  errors?: FieldErrors | undefined;
  notice?: Notice | undefined;
}

export function AdminChannelsPage(props: AdminChannelsPageProps) {
  const { ctx, values } = props;
  const t = ctx.t;
  const errors = props.errors ?? {};
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.channels.title')}
      section="channels"
      lead={t('admin.channels.lead')}
      notice={props.notice}
      errors={props.errors}
    >
      <div class="mk-figures">
        <table class="ds-table" data-border>
          <caption>{t('admin.channels.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('admin.col.channel')}</th>
              <th scope="col">{t('admin.col.visibility')}</th>
              <th scope="col">{t('admin.col.owners')}</th>
              <th scope="col">{t('admin.col.publishers')}</th>
              <th scope="col">{t('admin.col.subscribers')}</th>
              <th scope="col">{t('admin.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {props.channels.map((channel) => (
              <tr key={channel.slug} data-channel={channel.slug}>
                <th scope="row">
                  <a class="ds-link" href={WEB_PATHS.adminChannel(channel.slug)}>
                    {channel.title}
                  </a>
                  <br />
                  <code class="mk-admin-code">{channel.slug}</code>
                </th>
                <td>
                  <VisibilityTag ctx={ctx} visibility={channel.visibility} />
                </td>
                <td>
                  {channel.owners.length === 0 ? (
                    t('admin.channels.noOwner')
                  ) : (
                    <ul class="mk-admin-list">
                      {channel.owners.map((owner) => (
                        <li key={owner.userId}>
                          <PersonLink userId={owner.userId} name={owner.displayName} />
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{channel.publisherCount}</td>
                <td>{channel.subscriberCount}</td>
                <td>
                  <ul class="mk-admin-list">
                    <li>
                      <a class="ds-link" href={WEB_PATHS.adminChannel(channel.slug)}>
                        {t('admin.channels.owners', { channel: channel.title })}
                      </a>
                    </li>
                    <li>
                      <a class="ds-link" href={WEB_PATHS.channelSettings(channel.slug)}>
                        {t('publisher.start.settings', { channel: channel.title })}
                      </a>
                    </li>
                    <li>
                      <a class="ds-link" href={WEB_PATHS.adminChannelDeletion(channel.slug)}>
                        {t('admin.channels.delete', { channel: channel.title })}
                      </a>
                    </li>
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.channels.length === 0 ? <p class="ds-paragraph">{t('admin.channels.none')}</p> : null}
      <KeysetPagination
        ctx={ctx}
        nextCursor={props.nextCursor}
        onLaterPage={props.onLaterPage}
        hrefFor={(cursor) => withQuery(WEB_PATHS.adminChannels, { cursor })}
        order="alphabet"
      />

      <section aria-labelledby="create-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="create-heading">
          {t('admin.channels.create')}
        </h2>
        <form method="post" action={WEB_PATHS.adminChannels} class="mk-stack" noValidate>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="slug"
            label={t('admin.channels.slug')}
            description={t('admin.channels.slugHelp')}
            value={values.slug}
            error={errors.slug}
            maxLength={64}
            autocomplete="off"
            spellcheck={false}
          />
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
          <Button>{t('admin.channels.createButton')}</Button>
        </form>
      </section>
    </AdminFrame>
  );
}

export interface AdminChannelPageProps {
  ctx: PageContext;
  channel: ChannelView;
  roles: readonly ChannelRoleView[];
  person: string;
  errors?: FieldErrors | undefined;
  notice?: Notice | undefined;
}

export function AdminChannelPage(props: AdminChannelPageProps) {
  const { ctx, channel, roles } = props;
  const t = ctx.t;
  const base = WEB_PATHS.adminChannel(channel.slug);
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.channel.title', { channel: channel.title })}
      section="channels"
      notice={props.notice}
      errors={props.errors}
    >
      <Facts
        items={[
          { term: t('admin.channels.slug'), value: <code class="mk-admin-code">{channel.slug}</code> },
          { term: t('admin.col.visibility'), value: <VisibilityTag ctx={ctx} visibility={channel.visibility} /> },
          {
            term: t('admin.col.created'),
            value: <time dateTime={channel.createdAt}>{ctx.date(new Date(channel.createdAt))}</time>,
          },
        ]}
      />
      <ul class="mk-inline mk-admin-list">
        <li>
          <a class="ds-link" href={WEB_PATHS.channel(channel.slug)}>
            {t('admin.channel.readerPage')}
          </a>
        </li>
        <li>
          <a class="ds-link" href={WEB_PATHS.channelSettings(channel.slug)}>
            {t('publisher.start.settings', { channel: channel.title })}
          </a>
        </li>
        <li>
          <a class="ds-link" href={WEB_PATHS.adminChannels}>
            {t('admin.channel.back')}
          </a>
        </li>
      </ul>

      <section aria-labelledby="people-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="people-heading">
          {t('publisher.settings.people')}
        </h2>
        <p class="ds-paragraph">{t('admin.channel.peopleHelp')}</p>
        {roles.length === 0 ? (
          <p class="ds-paragraph">{t('admin.channel.nobody')}</p>
        ) : (
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
                    <th scope="row">
                      <PersonLink userId={role.userId} name={role.displayName} />
                    </th>
                    <td>
                      {t(role.role === 'owner' ? 'publisher.settings.roleOwner' : 'publisher.settings.rolePublisher')}
                    </td>
                    <td>{ctx.date(new Date(role.grantedAt))}</td>
                    <td>
                      <div class="mk-inline">
                        {role.role === 'publisher' ? (
                          <form method="post" action={`${base}/owners`}>
                            <CsrfField ctx={ctx} />
                            <input type="hidden" name="userId" value={role.userId} />
                            <Button variant="secondary" data-size="sm">
                              {t('admin.channel.makeOwner', { name: role.displayName })}
                            </Button>
                          </form>
                        ) : null}
                        <form method="post" action={`${base}/owners/remove`}>
                          <CsrfField ctx={ctx} />
                          <input type="hidden" name="userId" value={role.userId} />
                          <Button variant="tertiary" data-size="sm">
                            {t('publisher.settings.revoke', { name: role.displayName })}
                          </Button>
                        </form>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form method="post" action={`${base}/owners`} class="mk-stack" noValidate aria-labelledby="owner-heading">
          <h3 class="ds-heading" data-size="xs" id="owner-heading">
            {t('admin.channel.addOwner')}
          </h3>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="person"
            type="email"
            autocomplete="off"
            label={t('publisher.settings.person')}
            description={t('publisher.settings.personHelp')}
            value={props.person}
            error={props.errors?.person}
            maxLength={254}
          />
          <Button variant="secondary">{t('admin.channel.addOwnerButton')}</Button>
        </form>
      </section>

      <section aria-labelledby="delete-heading" class="mk-stack mk-danger-zone">
        <h2 class="ds-heading" data-size="sm" id="delete-heading">
          {t('admin.delete.heading')}
        </h2>
        <p class="ds-paragraph">
          <a class="ds-link" href={WEB_PATHS.adminChannelDeletion(channel.slug)}>
            {t('admin.channels.delete', { channel: channel.title })}
          </a>
        </p>
      </section>
    </AdminFrame>
  );
}

export interface DeleteChannelPageProps {
  ctx: PageContext;
  channel: { slug: string; title: string };
  confirm: string;
  errors?: FieldErrors | undefined;
}

/** The confirmation step: what goes, that it cannot be undone, and the slug to type. */
export function DeleteChannelPage({ ctx, channel, confirm, errors }: DeleteChannelPageProps) {
  const t = ctx.t;
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.delete.title', { channel: channel.title })}
      section="channels"
      errors={errors}
    >
      <p class="ds-paragraph">{t('admin.delete.help')}</p>
      <p class="ds-paragraph">
        <strong>{t('publisher.retract.cannotUndo')}</strong>
      </p>
      <form method="post" action={WEB_PATHS.adminChannelDeletion(channel.slug)} class="mk-stack" noValidate>
        <CsrfField ctx={ctx} />
        <TextField
          ctx={ctx}
          name="confirm"
          label={t('admin.delete.confirmLabel', { slug: channel.slug })}
          value={confirm}
          error={errors?.confirm}
          autocomplete="off"
          spellcheck={false}
          maxLength={64}
        />
        <div class="mk-inline">
          <Button data-color="danger">{t('admin.delete.confirm')}</Button>
          <a class="ds-link" href={WEB_PATHS.adminChannel(channel.slug)}>
            {t('admin.delete.cancel')}
          </a>
        </div>
      </form>
    </AdminFrame>
  );
}
