/**
 * The audit log for administrators (/admin/audit): a GET form of filters — who (e-mail address, Feide id or user id),
 * action, target (kind, and its id or a channel's slug), outcome, and a time window in Norwegian time — so a view can
 * be linked; the records newest first, one keyset page at a time (src/services/audit.ts). People are named where
 * the record holds their id (actor, `userId` in details); details are shown as the record keeps them.
 */
import type { ComponentChildren } from 'preact';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_TARGET_TYPES, type AuditOutcome } from '../../../domain/audit.js';
import type { AuditRecordView } from '../../../services/audit.js';
import { KeysetPagination, withQuery } from '../../components/announcements.js';
import { Button, type FieldErrors, SelectField, TextField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame, PersonLink } from './shared.js';

/** The filters as the form sent them (strings, so a refused value is shown back as typed). */
export interface AuditFilters {
  actor: string;
  action: string;
  targetType: string;
  target: string;
  outcome: string;
  from: string;
  to: string;
}

export interface AdminAuditPageProps {
  ctx: PageContext;
  filters: AuditFilters;
  records: readonly AuditRecordView[];
  /** Display names of the people the records name, by user id. */
  names: ReadonlyMap<string, string>;
  nextCursor: string | null;
  onLaterPage: boolean;
  errors?: FieldErrors | undefined;
}

const OUTCOME_COLOURS: Record<AuditOutcome, 'success' | 'danger' | 'warning'> = {
  success: 'success',
  denied: 'danger',
  failure: 'warning',
};

/** Details keys that hold a user id: shown as the person's name. */
const PERSON_KEYS = new Set(['userId', 'ownerUserId']);

function Actor({
  ctx,
  record,
  names,
}: {
  ctx: PageContext;
  record: AuditRecordView;
  names: ReadonlyMap<string, string>;
}) {
  if (record.actorKind === 'system') return <>{ctx.t('admin.audit.system')}</>;
  if (record.actorKind === 'anonymous' || !record.actorUserId) return <>{ctx.t('admin.audit.anonymous')}</>;
  const name = names.get(record.actorUserId);
  if (!name) return <>{ctx.t('admin.audit.formerUser')}</>;
  return <PersonLink userId={record.actorUserId} name={name} />;
}

function detailOf(details: unknown, key: string): string | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const value = (details as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

function Target({
  ctx,
  record,
  names,
}: {
  ctx: PageContext;
  record: AuditRecordView;
  names: ReadonlyMap<string, string>;
}) {
  if (!record.targetType) return <>–</>;
  const kind = (AUDIT_TARGET_TYPES as readonly string[]).includes(record.targetType)
    ? ctx.t(`admin.audit.target.${record.targetType as (typeof AUDIT_TARGET_TYPES)[number]}`)
    : record.targetType;
  let what: ComponentChildren = record.targetId ? <code class="mk-admin-code">{record.targetId}</code> : null;
  const slug = detailOf(record.details, 'slug');
  const code = detailOf(record.details, 'code');
  if (record.targetType === 'channel' && slug) {
    what = (
      <a class="ds-link" href={WEB_PATHS.adminChannel(slug)}>
        {slug}
      </a>
    );
  } else if (record.targetType === 'organisation' && code) {
    what = (
      <a class="ds-link" href={WEB_PATHS.adminOrganisation(code)}>
        {code}
      </a>
    );
  } else if (record.targetType === 'user' && record.targetId && names.has(record.targetId)) {
    what = <PersonLink userId={record.targetId} name={names.get(record.targetId) ?? ''} />;
  }
  return (
    <>
      {kind}
      {what ? <br /> : null}
      {what}
    </>
  );
}

function DetailValue({ name, value, names }: { name: string; value: unknown; names: ReadonlyMap<string, string> }) {
  if (typeof value === 'string' && PERSON_KEYS.has(name) && names.has(value)) {
    return <PersonLink userId={value} name={names.get(value) ?? ''} />;
  }
  if (value && typeof value === 'object' && !Array.isArray(value) && 'from' in value && 'to' in value) {
    const change = value as { from: unknown; to: unknown };
    return (
      <>
        {String(change.from)} → {String(change.to)}
      </>
    );
  }
  if (value === null || value === undefined) return <>–</>;
  if (Array.isArray(value)) return <>{value.map((item) => String(item)).join(', ')}</>;
  if (value !== null && typeof value === 'object') return <code class="mk-admin-code">{JSON.stringify(value)}</code>;
  return <>{String(value)}</>;
}

function Details({
  ctx,
  record,
  names,
}: {
  ctx: PageContext;
  record: AuditRecordView;
  names: ReadonlyMap<string, string>;
}) {
  const entries =
    record.details && typeof record.details === 'object' && !Array.isArray(record.details)
      ? Object.entries(record.details as Record<string, unknown>)
      : [];
  return (
    <dl class="mk-admin-details">
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>
            <DetailValue name={name} value={value} names={names} />
          </dd>
        </div>
      ))}
      {record.requestId ? (
        <div>
          <dt>{ctx.t('admin.audit.requestId')}</dt>
          <dd>
            <code class="mk-admin-code">{record.requestId}</code>
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

function actionLabel(ctx: PageContext, action: string): string {
  return (AUDIT_ACTIONS as readonly string[]).includes(action)
    ? ctx.t(`admin.audit.action.${action as (typeof AUDIT_ACTIONS)[number]}`)
    : action;
}

export function AdminAuditPage(props: AdminAuditPageProps) {
  const { ctx, filters, names } = props;
  const t = ctx.t;
  const errors = props.errors ?? {};
  const hrefFor = (cursor: string | null) => withQuery(WEB_PATHS.adminAudit, { ...filters, cursor });
  return (
    <AdminFrame
      ctx={ctx}
      title={t('admin.audit.title')}
      section="audit"
      lead={t('admin.audit.lead')}
      errors={props.errors}
    >
      <search>
        <form method="get" action={WEB_PATHS.adminAudit} class="mk-stack" noValidate>
          <div class="mk-filters">
            <TextField
              ctx={ctx}
              name="actor"
              optional
              label={t('admin.audit.actor')}
              description={t('admin.audit.actorHelp')}
              value={filters.actor}
              error={errors.actor}
              maxLength={254}
              autocomplete="off"
            />
            <SelectField
              ctx={ctx}
              name="action"
              optional
              label={t('admin.audit.action')}
              value={filters.action}
              error={errors.action}
              choices={[
                { value: '', label: t('admin.audit.anyAction') },
                ...AUDIT_ACTIONS.map((action) => ({ value: action, label: actionLabel(ctx, action) })),
              ]}
            />
            <SelectField
              ctx={ctx}
              name="outcome"
              optional
              label={t('admin.audit.outcome')}
              value={filters.outcome}
              error={errors.outcome}
              choices={[
                { value: '', label: t('admin.audit.anyOutcome') },
                ...AUDIT_OUTCOMES.map((outcome) => ({ value: outcome, label: t(`admin.audit.outcome.${outcome}`) })),
              ]}
            />
          </div>
          <div class="mk-filters">
            <SelectField
              ctx={ctx}
              name="targetType"
              optional
              label={t('admin.audit.targetType')}
              value={filters.targetType}
              error={errors.targetType}
              choices={[
                { value: '', label: t('admin.audit.anyTarget') },
                ...AUDIT_TARGET_TYPES.map((type) => ({ value: type, label: t(`admin.audit.target.${type}`) })),
              ]}
            />
            <TextField
              ctx={ctx}
              name="target"
              optional
              label={t('admin.audit.target')}
              description={t('admin.audit.targetHelp')}
              value={filters.target}
              error={errors.target}
              maxLength={200}
              autocomplete="off"
            />
          </div>
          <div class="mk-filters">
            <TextField
              ctx={ctx}
              name="from"
              type="datetime-local"
              step={1}
              optional
              label={t('admin.audit.from')}
              description={t('publisher.editor.norwegianTime')}
              value={filters.from}
              error={errors.from}
            />
            <TextField
              ctx={ctx}
              name="to"
              type="datetime-local"
              step={1}
              optional
              label={t('admin.audit.to')}
              description={t('publisher.editor.norwegianTime')}
              value={filters.to}
              error={errors.to}
            />
          </div>
          <div class="mk-inline">
            <Button>{t('admin.audit.show')}</Button>
            <a class="ds-link" href={WEB_PATHS.adminAudit}>
              {t('admin.audit.clear')}
            </a>
          </div>
        </form>
      </search>
      {props.records.length === 0 ? (
        <p class="ds-paragraph" role="status">
          {t(props.errors ? 'admin.audit.fixFilters' : 'admin.audit.none')}
        </p>
      ) : (
        <div class="mk-figures">
          <table class="ds-table" data-border data-testid="audit-log">
            <caption>{t('admin.audit.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.audit.time')}</th>
                <th scope="col">{t('admin.audit.actor')}</th>
                <th scope="col">{t('admin.audit.action')}</th>
                <th scope="col">{t('admin.audit.target')}</th>
                <th scope="col">{t('admin.audit.outcome')}</th>
                <th scope="col">{t('admin.audit.details')}</th>
              </tr>
            </thead>
            <tbody>
              {props.records.map((record) => (
                <tr key={record.id} data-action={record.action}>
                  <th scope="row">
                    <time dateTime={record.at}>{ctx.dateTime(new Date(record.at))}</time>
                  </th>
                  <td>
                    <Actor ctx={ctx} record={record} names={names} />
                  </td>
                  <td>
                    {actionLabel(ctx, record.action)}
                    <br />
                    <code class="mk-admin-code">{record.action}</code>
                  </td>
                  <td class="mk-admin-wrap">
                    <Target ctx={ctx} record={record} names={names} />
                  </td>
                  <td>
                    <span class="ds-tag" data-color={OUTCOME_COLOURS[record.outcome]}>
                      {t(`admin.audit.outcome.${record.outcome}`)}
                    </span>
                  </td>
                  <td class="mk-admin-wrap">
                    <Details ctx={ctx} record={record} names={names} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <KeysetPagination ctx={ctx} nextCursor={props.nextCursor} onLaterPage={props.onLaterPage} hrefFor={hrefFor} />
    </AdminFrame>
  );
}
