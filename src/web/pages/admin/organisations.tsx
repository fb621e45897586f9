/**
 * The member organisations and their realms — the table sign-in maps a person's Feide realm with
 * (src/services/organisations.ts): the list with the form that adds one (/admin/organisations), and the form that
 * changes one's name or realm (/admin/organisations/{code}; the code is permanent).
 */
import type { OrganisationView } from '../../../services/organisations.js';
import { Button, CsrfField, type FieldErrors, TextField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame, type Notice } from './shared.js';

export interface OrganisationValues {
  code: string;
  name: string;
  realm: string;
}

export interface AdminOrganisationsPageProps {
  ctx: PageContext;
  organisations: readonly OrganisationView[];
  values: OrganisationValues;
  errors?: FieldErrors | undefined;
  notice?: Notice | undefined;
}

function NameAndRealmFields({
  ctx,
  values,
  errors,
}: {
  ctx: PageContext;
  values: Pick<OrganisationValues, 'name' | 'realm'>;
  errors: FieldErrors;
}) {
  return (
    <>
      <TextField
        ctx={ctx}
        name="name"
        label={ctx.t('admin.organisations.name')}
        value={values.name}
        error={errors.name}
        maxLength={200}
      />
      <TextField
        ctx={ctx}
        name="realm"
        label={ctx.t('admin.organisations.realm')}
        description={ctx.t('admin.organisations.realmHelp')}
        value={values.realm}
        error={errors.realm}
        maxLength={253}
        autocomplete="off"
        spellcheck={false}
      />
    </>
  );
}

export function AdminOrganisationsPage(props: AdminOrganisationsPageProps) {
  const { ctx, values } = props;
  const t = ctx.t;
  const errors = props.errors ?? {};
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.organisations.title')}
      section="organisations"
      lead={t('admin.organisations.lead')}
      notice={props.notice}
      errors={props.errors}
    >
      <p class="ds-paragraph">{t('admin.organisations.help')}</p>
      {props.organisations.length === 0 ? (
        <p class="ds-paragraph">{t('admin.organisations.none')}</p>
      ) : (
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{t('admin.organisations.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.organisations.code')}</th>
                <th scope="col">{t('admin.organisations.name')}</th>
                <th scope="col">{t('admin.organisations.realm')}</th>
                <th scope="col">{t('admin.col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {props.organisations.map((organisation) => (
                <tr key={organisation.code}>
                  <th scope="row">{organisation.code}</th>
                  <td>{organisation.name}</td>
                  <td>
                    <code class="mk-admin-code">{organisation.realm}</code>
                  </td>
                  <td>
                    <a class="ds-link" href={WEB_PATHS.adminOrganisation(organisation.code)}>
                      {t('admin.organisations.edit', { code: organisation.code })}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <section aria-labelledby="add-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="add-heading">
          {t('admin.organisations.add')}
        </h2>
        <form method="post" action={WEB_PATHS.adminOrganisations} class="mk-stack" noValidate>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="code"
            label={t('admin.organisations.code')}
            description={t('admin.organisations.codeHelp')}
            value={values.code}
            error={errors.code}
            maxLength={32}
            autocomplete="off"
            spellcheck={false}
          />
          <NameAndRealmFields ctx={ctx} values={values} errors={errors} />
          <Button>{t('admin.organisations.addButton')}</Button>
        </form>
      </section>
    </AdminFrame>
  );
}

export interface AdminOrganisationPageProps {
  ctx: PageContext;
  code: string;
  values: Pick<OrganisationValues, 'name' | 'realm'>;
  errors?: FieldErrors | undefined;
}

export function AdminOrganisationPage({ ctx, code, values, errors }: AdminOrganisationPageProps) {
  const t = ctx.t;
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.organisation.title', { code })}
      section="organisations"
      lead={t('admin.organisation.lead')}
      errors={errors}
    >
      <form method="post" action={WEB_PATHS.adminOrganisation(code)} class="mk-stack" noValidate>
        <CsrfField ctx={ctx} />
        <NameAndRealmFields ctx={ctx} values={values} errors={errors ?? {}} />
        <div class="mk-inline">
          <Button>{t('admin.organisation.save')}</Button>
          <a class="ds-link" href={WEB_PATHS.adminOrganisations}>
            {t('admin.organisation.cancel')}
          </a>
        </div>
      </form>
    </AdminFrame>
  );
}
