/**
 * People for administrators: finding them by name, e-mail address or Feide id (/admin/users, a GET form, keyset
 * pages by name), and one person (/admin/users/{id}): their organisation, the administrator flag (given and taken
 * by POST; never one's own taken), and their roles in channels (given and taken through the channel-settings use
 * cases, whose rules and audit records apply).
 */
import type { ChannelRoleKind } from '../../../domain/types.js';
import type { UserAdminView } from '../../../services/users.js';
import { KeysetPagination, withQuery } from '../../components/announcements.js';
import { Button, ChoiceGroup, CsrfField, type FieldErrors, SelectField, TextField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame, Facts, type Notice, PersonLink, TimeOrNever, YesNo } from './shared.js';

function roleLabel(ctx: PageContext, role: ChannelRoleKind): string {
  return ctx.t(role === 'owner' ? 'publisher.settings.roleOwner' : 'publisher.settings.rolePublisher');
}

function Organisation({ ctx, user }: { ctx: PageContext; user: UserAdminView }) {
  if (!user.organisation) return <>{ctx.t('admin.users.noOrganisation')}</>;
  return <abbr title={user.organisation.name}>{user.organisation.code}</abbr>;
}

export interface UserSearchValues {
  q: string;
  admins: boolean;
}

export interface AdminUsersPageProps {
  ctx: PageContext;
  values: UserSearchValues;
  users: readonly UserAdminView[];
  nextCursor: string | null;
  onLaterPage: boolean;
  errors?: FieldErrors | undefined;
}

export function AdminUsersPage(props: AdminUsersPageProps) {
  const { ctx, values } = props;
  const t = ctx.t;
  const hrefFor = (cursor: string | null) =>
    withQuery(WEB_PATHS.adminUsers, { q: values.q, admins: values.admins ? '1' : null, cursor });
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.users.title')}
      section="users"
      lead={t('admin.users.lead')}
      errors={props.errors}
    >
      <search>
        <form method="get" action={WEB_PATHS.adminUsers} class="mk-stack" noValidate>
          <TextField
            ctx={ctx}
            name="q"
            type="search"
            optional
            label={t('admin.users.q')}
            value={values.q}
            error={props.errors?.q}
            maxLength={254}
            autocomplete="off"
          />
          <ChoiceGroup
            ctx={ctx}
            name="admins"
            type="checkbox"
            legend={t('admin.users.filter')}
            value={values.admins ? ['1'] : []}
            choices={[{ value: '1', label: t('admin.users.adminsOnly') }]}
          />
          <div>
            <Button>{t('admin.users.search')}</Button>
          </div>
        </form>
      </search>
      {props.users.length === 0 ? (
        <p class="ds-paragraph" role="status">
          {t('admin.users.none')}
        </p>
      ) : (
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{values.q ? t('admin.users.captionFor', { q: values.q }) : t('admin.users.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.col.name')}</th>
                <th scope="col">{t('admin.col.email')}</th>
                <th scope="col">{t('admin.col.feideId')}</th>
                <th scope="col">{t('admin.col.organisation')}</th>
                <th scope="col">{t('admin.col.admin')}</th>
                <th scope="col">{t('admin.col.roles')}</th>
                <th scope="col">{t('admin.col.lastLogin')}</th>
              </tr>
            </thead>
            <tbody>
              {props.users.map((user) => (
                <tr key={user.id} data-user={user.id}>
                  <th scope="row">
                    <PersonLink userId={user.id} name={user.displayName} />
                  </th>
                  <td class="mk-admin-wrap">{user.email ?? '–'}</td>
                  <td class="mk-admin-wrap">{user.principalName ?? '–'}</td>
                  <td>
                    <Organisation ctx={ctx} user={user} />
                  </td>
                  <td>
                    <YesNo ctx={ctx} value={user.isAdmin} />
                  </td>
                  <td>
                    {user.roles.length === 0 ? (
                      '–'
                    ) : (
                      <ul class="mk-admin-list">
                        {user.roles.map((role) => (
                          <li key={role.slug}>
                            {t('admin.users.roleIn', { role: roleLabel(ctx, role.role), channel: role.title })}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    <TimeOrNever ctx={ctx} value={user.lastLoginAt} never="admin.never" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <KeysetPagination
        ctx={ctx}
        nextCursor={props.nextCursor}
        onLaterPage={props.onLaterPage}
        hrefFor={hrefFor}
        order="alphabet"
      />
    </AdminFrame>
  );
}

export interface AdminUserPageProps {
  ctx: PageContext;
  user: UserAdminView;
  /** The channels a role can be given in, by title. */
  channels: readonly { slug: string; title: string }[];
  values: { channel: string; role: ChannelRoleKind };
  errors?: FieldErrors | undefined;
  notice?: Notice | undefined;
}

export function AdminUserPage(props: AdminUserPageProps) {
  const { ctx, user, values } = props;
  const t = ctx.t;
  const base = WEB_PATHS.adminUser(user.id);
  const isSelf = ctx.viewer?.userId === user.id;
  return (
    <AdminFrame
      ctx={ctx}
      title={user.displayName}
      section="users"
      lead={t('admin.user.lead')}
      notice={props.notice}
      errors={props.errors}
    >
      <Facts
        items={[
          { term: t('admin.col.email'), value: user.email ?? '–' },
          { term: t('admin.col.feideId'), value: user.principalName ?? '–' },
          {
            term: t('admin.col.organisation'),
            value: user.organisation
              ? `${user.organisation.name} (${user.organisation.code})`
              : t('admin.users.noOrganisation'),
          },
          { term: t('admin.col.admin'), value: <YesNo ctx={ctx} value={user.isAdmin} /> },
          {
            term: t('admin.col.lastLogin'),
            value: <TimeOrNever ctx={ctx} value={user.lastLoginAt} never="admin.never" />,
          },
          { term: t('admin.col.created'), value: <TimeOrNever ctx={ctx} value={user.createdAt} never="admin.never" /> },
        ]}
      />
      <ul class="mk-inline mk-admin-list">
        <li>
          <a class="ds-link" href={withQuery(WEB_PATHS.adminTokens, { user: user.id })}>
            {t('admin.user.tokens', { name: user.displayName })}
          </a>
        </li>
        <li>
          <a class="ds-link" href={withQuery(WEB_PATHS.adminAudit, { actor: user.id })}>
            {t('admin.user.audit', { name: user.displayName })}
          </a>
        </li>
      </ul>

      <section aria-labelledby="admin-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="admin-heading">
          {t('admin.user.adminHeading')}
        </h2>
        <p class="ds-paragraph">
          {t(user.isAdmin ? 'admin.user.isAdmin' : 'admin.user.isNotAdmin', { name: user.displayName })}
        </p>
        {isSelf && user.isAdmin ? (
          <p class="ds-paragraph">{t('admin.user.notSelf')}</p>
        ) : (
          <form method="post" action={`${base}/admin`}>
            <CsrfField ctx={ctx} />
            <input type="hidden" name="admin" value={user.isAdmin ? 'revoke' : 'grant'} />
            <Button variant="secondary" data-color={user.isAdmin ? 'danger' : undefined}>
              {t(user.isAdmin ? 'admin.user.revokeAdmin' : 'admin.user.grantAdmin', { name: user.displayName })}
            </Button>
          </form>
        )}
      </section>

      <section aria-labelledby="roles-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="roles-heading">
          {t('admin.user.rolesHeading')}
        </h2>
        {user.roles.length === 0 ? (
          <p class="ds-paragraph">{t('admin.user.noRoles', { name: user.displayName })}</p>
        ) : (
          <div class="mk-figures">
            <table class="ds-table" data-border>
              <caption>{t('admin.user.rolesCaption', { name: user.displayName })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('admin.col.channel')}</th>
                  <th scope="col">{t('publisher.col.role')}</th>
                  <th scope="col">{t('admin.col.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {user.roles.map((role) => (
                  <tr key={role.slug}>
                    <th scope="row">
                      <a class="ds-link" href={WEB_PATHS.adminChannel(role.slug)}>
                        {role.title}
                      </a>
                    </th>
                    <td>{roleLabel(ctx, role.role)}</td>
                    <td>
                      <form method="post" action={`${base}/roles/revoke`}>
                        <CsrfField ctx={ctx} />
                        <input type="hidden" name="channel" value={role.slug} />
                        <Button variant="tertiary" data-size="sm">
                          {t('admin.user.revokeRole', { channel: role.title })}
                        </Button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form method="post" action={`${base}/roles`} class="mk-stack" noValidate aria-labelledby="grant-heading">
          <h3 class="ds-heading" data-size="xs" id="grant-heading">
            {t('admin.user.grantHeading')}
          </h3>
          <CsrfField ctx={ctx} />
          <SelectField
            ctx={ctx}
            name="channel"
            label={t('admin.col.channel')}
            value={values.channel}
            error={props.errors?.channel}
            choices={[
              { value: '', label: t('admin.user.chooseChannel') },
              ...props.channels.map((channel) => ({ value: channel.slug, label: channel.title })),
            ]}
          />
          <SelectField
            ctx={ctx}
            name="role"
            label={t('publisher.settings.role')}
            value={values.role}
            error={props.errors?.role}
            choices={[
              { value: 'publisher', label: t('publisher.settings.rolePublisher') },
              { value: 'owner', label: t('publisher.settings.roleOwner') },
            ]}
          />
          <Button variant="secondary">{t('publisher.settings.grantButton')}</Button>
        </form>
      </section>
    </AdminFrame>
  );
}
