/**
 * The confirmation step of a retraction: what it does, why (the reason, kept in the audit log), and a POST button;
 * "No" goes back without changing anything.
 */
import { Button, CsrfField, ErrorSummary, type FieldErrors, TextArea } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { Layout, PageHeading } from '../../layout.js';
import { WEB_PATHS } from '../../paths.js';

export interface RetractPageProps {
  ctx: PageContext;
  announcement: { id: string; title: string; language: string };
  reason: string;
  errors?: FieldErrors;
}

export function RetractPage({ ctx, announcement, reason, errors }: RetractPageProps) {
  const title = ctx.t('publisher.retract.title');
  return (
    <Layout ctx={ctx} title={`${title}: ${announcement.title}`} current="publish">
      <PageHeading title={title} lead={<span lang={announcement.language}>{announcement.title}</span>} />
      <ErrorSummary ctx={ctx} errors={errors} />
      <p class="ds-paragraph">{ctx.t('publisher.retract.help')}</p>
      <p class="ds-paragraph">
        <strong>{ctx.t('publisher.retract.cannotUndo')}</strong>
      </p>
      <form method="post" action={WEB_PATHS.retractAnnouncement(announcement.id)} class="mk-stack" noValidate>
        <CsrfField ctx={ctx} />
        <TextArea
          ctx={ctx}
          name="reason"
          label={ctx.t('publisher.retract.reason')}
          description={ctx.t('publisher.retract.reasonHelp')}
          value={reason}
          error={errors?.reason}
          rows={3}
          maxLength={500}
        />
        <div class="mk-inline">
          <Button data-color="danger">{ctx.t('publisher.retract.confirm')}</Button>
          <a class="ds-link" href={WEB_PATHS.announcementDeliveries(announcement.id)}>
            {ctx.t('publisher.retract.cancel')}
          </a>
        </div>
      </form>
    </Layout>
  );
}
