/**
 * The e-mail suppression list for administrators (/admin/suppressions): what the API allows — looking up one address
 * at a time (src/services/suppression.ts says why: the list is personal data, and support answers "why do I get
 * nothing?" rather than browsing it). A GET form; the answer is the address's suppression with its reason, or that
 * it has none. Only the address's owner lifts a suppression (by subscribing again and confirming), so there is no
 * button for it here.
 */
import type { SuppressionView } from '../../../services/suppression.js';
import { Alert, Button, type FieldErrors, TextField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame, Facts } from './shared.js';

export interface AdminSuppressionsPageProps {
  ctx: PageContext;
  email: string;
  /** The lookup's answer: the suppression, `'none'` when the address has never been suppressed, or nothing yet. */
  result?: SuppressionView | 'none' | undefined;
  errors?: FieldErrors | undefined;
}

const KNOWN_REASONS = ['bounce'] as const;

function reasonLabel(ctx: PageContext, reason: string): string {
  return (KNOWN_REASONS as readonly string[]).includes(reason)
    ? ctx.t(`admin.suppressions.reason.${reason as (typeof KNOWN_REASONS)[number]}`)
    : reason;
}

export function AdminSuppressionsPage({ ctx, email, result, errors }: AdminSuppressionsPageProps) {
  const t = ctx.t;
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.suppressions.title')}
      section="suppressions"
      lead={t('admin.suppressions.lead')}
      errors={errors}
    >
      <p class="ds-paragraph">{t('admin.suppressions.help')}</p>
      <search>
        <form method="get" action={WEB_PATHS.adminSuppressions} class="mk-inline" noValidate>
          <TextField
            ctx={ctx}
            name="email"
            type="email"
            label={t('admin.suppressions.email')}
            value={email}
            error={errors?.email}
            maxLength={254}
            autocomplete="off"
          />
          <Button>{t('admin.suppressions.lookUp')}</Button>
        </form>
      </search>
      {result === 'none' ? (
        <Alert color="info" role="status">
          {t('admin.suppressions.notListed', { email })}
        </Alert>
      ) : result ? (
        <section aria-labelledby="result-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="sm" id="result-heading">
            {t('admin.suppressions.resultHeading', { email: result.email })}
          </h2>
          <Facts
            items={[
              {
                term: t('admin.suppressions.status'),
                value: (
                  <span class="ds-tag" data-color={result.active ? 'danger' : 'success'}>
                    {t(result.active ? 'admin.suppressions.active' : 'admin.suppressions.lifted')}
                  </span>
                ),
              },
              { term: t('admin.suppressions.reason'), value: reasonLabel(ctx, result.reason) },
              {
                term: t('admin.suppressions.detail'),
                value: result.detail ? <code class="mk-admin-code">{result.detail}</code> : '–',
              },
              {
                term: t('admin.suppressions.since'),
                value: <time dateTime={result.createdAt}>{ctx.dateTime(new Date(result.createdAt))}</time>,
              },
              ...(result.liftedAt
                ? [
                    {
                      term: t('admin.suppressions.liftedAt'),
                      value: <time dateTime={result.liftedAt}>{ctx.dateTime(new Date(result.liftedAt))}</time>,
                    },
                  ]
                : []),
              { term: t('admin.suppressions.delivery'), value: result.deliveryId ?? '–' },
            ]}
          />
          <p class="ds-paragraph">
            {t(result.active ? 'admin.suppressions.howToLift' : 'admin.suppressions.liftedHelp')}
          </p>
        </section>
      ) : null}
    </AdminFrame>
  );
}
