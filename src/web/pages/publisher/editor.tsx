/**
 * The editor: a new announcement in a channel, or an existing one (draft, scheduled or published). One form, which
 * works without JavaScript (multipart, so files can be attached): the language versions side by side (each with the
 * preview of its body as readers will see it — rendered by the server on "Preview", and live while typing with
 * entries/editor.js), then the settings in fieldsets, then the buttons. The first button is "Preview", so pressing
 * Enter in a field never publishes.
 */
import type { AnnouncementStatus } from '../../../domain/announcement.js';
import { ANNOUNCEMENT_TYPES } from '../../../domain/announcement.js';
import { IMPORTANCES, LANGUAGES, type Language } from '../../../domain/types.js';
import type { OrganisationView } from '../../../services/organisations.js';
import type { OpenIncident } from '../../../services/publishing.js';
import type { AttachmentView } from '../../../services/views.js';
import {
  Alert,
  Button,
  ChoiceGroup,
  CsrfField,
  ErrorSummary,
  type FieldErrors,
  fieldId,
  SelectField,
  TextArea,
  TextField,
} from '../../components/forms.js';
import { type SanitisedHtml, TrustedHtml } from '../../components/trusted-html.js';
import type { PageContext } from '../../context.js';
import { Layout, PageHeading } from '../../layout.js';
import { WEB_PATHS } from '../../paths.js';
import { type EditorValues, versionField } from './editor-values.js';
import { formatBytes, StatusTag } from './shared.js';

export interface EditorAnnouncement {
  id: string;
  status: AnnouncementStatus;
  title: string;
  publishedAt: Date | null;
  publishAt: Date | null;
  attachments: readonly AttachmentView[];
  /** The incident this follow-up resolves, by title. */
  resolvesTitle: string | null;
}

export interface EditorPageProps {
  ctx: PageContext;
  channel: { slug: string; title: string };
  /** Absent: a new announcement. */
  announcement?: EditorAnnouncement;
  values: EditorValues;
  errors?: FieldErrors;
  organisations: readonly OrganisationView[];
  /** Incidents a new follow-up may resolve. */
  incidents: readonly OpenIncident[];
  /** Server-rendered previews of the bodies (the "Preview" button). */
  previews?: Partial<Record<Language, SanitisedHtml>>;
  notice?: { color: 'info' | 'success' | 'warning' | 'danger'; text: string };
  maxAttachmentBytes: number;
  acceptedFileTypes: string;
}

function LanguageVersion(props: {
  ctx: PageContext;
  language: Language;
  values: EditorValues;
  errors: FieldErrors;
  preview: SanitisedHtml | undefined;
}) {
  const { ctx, language, values, errors } = props;
  const version = values.versions[language];
  const original = language === values.language;
  const name = ctx.t(`language.${language}`);
  const previewId = `preview-${language}`;
  return (
    <fieldset class="ds-fieldset mk-version" id={`version-${language}`}>
      <legend class="ds-label" data-weight="medium">
        <span lang={language}>{name}</span>
        {original ? ` (${ctx.t('publisher.editor.original')})` : ''}
      </legend>
      <TextField
        ctx={ctx}
        name={versionField('title', language)}
        label={ctx.t('publisher.editor.title')}
        value={version.title}
        error={errors[versionField('title', language)]}
        lang={language}
        maxLength={200}
        required={false}
      />
      <TextField
        ctx={ctx}
        name={versionField('summary', language)}
        label={ctx.t('publisher.editor.summary')}
        description={ctx.t('publisher.editor.summaryHelp')}
        optional
        value={version.summary}
        error={errors[versionField('summary', language)]}
        lang={language}
        maxLength={500}
      />
      <TextArea
        ctx={ctx}
        name={versionField('body', language)}
        label={ctx.t('publisher.editor.body')}
        description={ctx.t('publisher.editor.bodyHelp')}
        value={version.body}
        error={errors[versionField('body', language)]}
        lang={language}
        rows={12}
        maxLength={20_000}
        required={false}
        data-preview={previewId}
      />
      <section class="mk-preview" aria-labelledby={`${previewId}-heading`}>
        <h3 class="ds-heading" data-size="2xs" id={`${previewId}-heading`}>
          {ctx.t('publisher.editor.preview', { language: name })}
        </h3>
        <div
          id={previewId}
          class="mk-preview__body mk-prose"
          lang={language}
          data-empty={ctx.t('publisher.editor.previewEmpty')}
        >
          {props.preview ? (
            <TrustedHtml html={props.preview} />
          ) : (
            <p class="ds-paragraph mk-meta">{ctx.t('publisher.editor.previewEmpty')}</p>
          )}
        </div>
      </section>
    </fieldset>
  );
}

function Checkbox(props: {
  ctx: PageContext;
  name: string;
  label: string;
  checked: boolean;
  error?: string | undefined;
}) {
  const id = fieldId(props.name);
  return (
    <ds-field class="ds-field">
      <input
        class="ds-input"
        type="checkbox"
        id={id}
        name={props.name}
        checked={props.checked}
        aria-describedby={props.error ? `${id}-error` : undefined}
        aria-invalid={props.error ? true : undefined}
      />
      <label class="ds-label" for={id} data-weight="regular">
        {props.label}
      </label>
      {props.error ? (
        <p class="ds-validation-message" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </ds-field>
  );
}

function DateTimeField(props: {
  ctx: PageContext;
  name: string;
  label: string;
  description?: string;
  value: string;
  error: string | undefined;
}) {
  return (
    <TextField
      ctx={props.ctx}
      name={props.name}
      type="datetime-local"
      label={props.label}
      description={props.description ?? props.ctx.t('publisher.editor.norwegianTime')}
      optional
      value={props.value}
      error={props.error}
      step={1}
    />
  );
}

export function EditorPage(props: EditorPageProps) {
  const { ctx, channel, announcement, values } = props;
  const errors = props.errors ?? {};
  const status = announcement?.status;
  const published = status === 'published';
  const title = announcement
    ? ctx.t('publisher.editor.editTitle')
    : ctx.t('publisher.editor.newTitle', { channel: channel.title });
  const action = announcement ? WEB_PATHS.editAnnouncement(announcement.id) : WEB_PATHS.newAnnouncement(channel.slug);
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={title} current="publish" scripts={['entries/editor.js']}>
      <PageHeading title={title} lead={announcement ? announcement.title : undefined} />
      {announcement ? (
        <div class="mk-inline">
          <StatusTag ctx={ctx} status={announcement.status} />
          {announcement.status === 'scheduled' && announcement.publishAt ? (
            <span>{t('publisher.status.scheduledFor', { time: ctx.dateTime(announcement.publishAt) })}</span>
          ) : null}
          {announcement.publishedAt ? (
            <span>{t('publisher.status.publishedAt', { time: ctx.dateTime(announcement.publishedAt) })}</span>
          ) : null}
          {published ? (
            <a class="ds-link" href={WEB_PATHS.announcementDeliveries(announcement.id)}>
              {t('publisher.deliveries.link')}
            </a>
          ) : null}
          <a class="ds-link" href={WEB_PATHS.channel(channel.slug)}>
            {t('publisher.editor.toChannel', { channel: channel.title })}
          </a>
        </div>
      ) : null}
      <ErrorSummary ctx={ctx} errors={props.errors} />
      {props.notice ? (
        <Alert color={props.notice.color} role="status">
          {props.notice.text}
        </Alert>
      ) : null}
      <form
        method="post"
        action={action}
        enctype="multipart/form-data"
        class="mk-editor mk-stack"
        noValidate
        data-preview-url={WEB_PATHS.markdownPreview}
      >
        <CsrfField ctx={ctx} />
        {values.revision ? <input type="hidden" name="revision" value={values.revision} /> : null}
        {values.idempotencyKey ? <input type="hidden" name="idempotencyKey" value={values.idempotencyKey} /> : null}

        <section aria-labelledby="text-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="sm" id="text-heading">
            {t('publisher.editor.text')}
          </h2>
          <p class="ds-paragraph">{t('publisher.editor.textHelp')}</p>
          <SelectField
            ctx={ctx}
            name="language"
            label={t('publisher.editor.originalLanguage')}
            value={values.language}
            error={errors.language}
            choices={LANGUAGES.map((language) => ({ value: language, label: t(`language.${language}`) }))}
          />
          <div class="mk-versions">
            {LANGUAGES.map((language) => (
              <LanguageVersion
                key={language}
                ctx={ctx}
                language={language}
                values={values}
                errors={errors}
                preview={props.previews?.[language]}
              />
            ))}
          </div>
        </section>

        <section aria-labelledby="settings-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="sm" id="settings-heading">
            {t('publisher.editor.settings')}
          </h2>
          <ChoiceGroup
            ctx={ctx}
            name="importance"
            type="radio"
            legend={t('publisher.editor.importance')}
            value={values.importance}
            error={errors.importance}
            choices={IMPORTANCES.map((importance) => ({
              value: importance,
              label: t(`publisher.importance.${importance}`),
            }))}
          />
          <ChoiceGroup
            ctx={ctx}
            name="type"
            type="radio"
            legend={t('publisher.editor.type')}
            value={values.type}
            error={errors.type}
            choices={ANNOUNCEMENT_TYPES.map((type) => ({ value: type, label: t(`publisher.type.${type}`) }))}
          />
          <fieldset class="ds-fieldset mk-stack" aria-describedby="window-description">
            <legend class="ds-label" data-weight="medium">
              {t('publisher.editor.window')}
            </legend>
            <p class="ds-paragraph" data-size="sm" id="window-description">
              {t('publisher.editor.windowHelp')}
            </p>
            <TextField
              ctx={ctx}
              name="affectedSystem"
              label={t('publisher.editor.affectedSystem')}
              optional
              value={values.affectedSystem}
              error={errors.affectedSystem}
              maxLength={200}
            />
            <DateTimeField
              ctx={ctx}
              name="startsAt"
              label={t('publisher.editor.startsAt')}
              value={values.startsAt}
              error={errors.startsAt}
            />
            <DateTimeField
              ctx={ctx}
              name="endsAt"
              label={t('publisher.editor.endsAt')}
              value={values.endsAt}
              error={errors.endsAt}
            />
          </fieldset>
          {announcement ? (
            announcement.resolvesTitle ? (
              <p class="ds-paragraph">{t('publisher.editor.resolvesFixed', { title: announcement.resolvesTitle })}</p>
            ) : null
          ) : props.incidents.length > 0 ? (
            <SelectField
              ctx={ctx}
              name="resolves"
              label={t('publisher.editor.resolves')}
              description={t('publisher.editor.resolvesHelp')}
              optional
              value={values.resolves}
              error={errors.resolves}
              choices={[
                { value: '', label: t('publisher.editor.resolvesNone') },
                ...props.incidents.map((incident) => ({ value: incident.id, label: incident.title })),
              ]}
            />
          ) : null}
          <ChoiceGroup
            ctx={ctx}
            name="audience"
            type="checkbox"
            legend={t('publisher.editor.audience')}
            description={t('publisher.editor.audienceHelp')}
            value={values.audience}
            error={errors.audience}
            choices={props.organisations.map((organisation) => ({
              value: organisation.code,
              label: `${organisation.code} – ${organisation.name}`,
            }))}
          />
          <fieldset class="ds-fieldset mk-stack">
            <legend class="ds-label" data-weight="medium">
              {t('publisher.editor.timing')}
            </legend>
            {published ? null : (
              <DateTimeField
                ctx={ctx}
                name="publishAt"
                label={t('publisher.editor.publishAt')}
                description={t('publisher.editor.publishAtHelp')}
                value={values.publishAt}
                error={errors.publishAt}
              />
            )}
            <DateTimeField
              ctx={ctx}
              name="expiresAt"
              label={t('publisher.editor.expiresAt')}
              description={t('publisher.editor.expiresAtHelp')}
              value={values.expiresAt}
              error={errors.expiresAt}
            />
          </fieldset>
          <fieldset class="ds-fieldset mk-stack">
            <legend class="ds-label" data-weight="medium">
              {t('publisher.editor.pin')}
            </legend>
            <Checkbox
              ctx={ctx}
              name="pinned"
              label={t('publisher.editor.pinned')}
              checked={values.pinned}
              error={errors.pinned}
            />
            <DateTimeField
              ctx={ctx}
              name="pinUntil"
              label={t('publisher.editor.pinUntil')}
              description={t('publisher.editor.pinUntilHelp')}
              value={values.pinUntil}
              error={errors.pinUntil}
            />
          </fieldset>
          <fieldset class="ds-fieldset mk-stack">
            <legend class="ds-label" data-weight="medium">
              {t('publisher.editor.acknowledgement')}
            </legend>
            <Checkbox
              ctx={ctx}
              name="ackRequired"
              label={t('publisher.editor.ackRequired')}
              checked={values.ackRequired}
              error={errors.ackRequired}
            />
            <DateTimeField
              ctx={ctx}
              name="ackDeadline"
              label={t('publisher.editor.ackDeadline')}
              value={values.ackDeadline}
              error={errors.ackDeadline}
            />
          </fieldset>
        </section>

        <section aria-labelledby="attachments-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="sm" id="attachments-heading">
            {t('publisher.editor.attachments')}
          </h2>
          {announcement && announcement.attachments.length > 0 ? (
            <fieldset class="ds-fieldset">
              <legend class="ds-label" data-weight="medium">
                {t('publisher.editor.attached')}
              </legend>
              {announcement.attachments.map((attachment) => (
                <ds-field class="ds-field" key={attachment.id}>
                  <input
                    class="ds-input"
                    type="checkbox"
                    id={`remove-${attachment.id}`}
                    name="removeAttachment"
                    value={attachment.id}
                    checked={values.removeAttachments.includes(attachment.id)}
                  />
                  <label class="ds-label" for={`remove-${attachment.id}`} data-weight="regular">
                    {t('publisher.editor.removeAttachment', {
                      name: attachment.filename,
                      size: formatBytes(ctx, attachment.size),
                    })}
                  </label>
                </ds-field>
              ))}
            </fieldset>
          ) : null}
          <TextField
            ctx={ctx}
            name="files"
            type="file"
            label={t('publisher.editor.addFiles')}
            description={t('publisher.editor.filesHelp', { max: formatBytes(ctx, props.maxAttachmentBytes) })}
            optional
            error={errors.files}
            multiple
            accept={props.acceptedFileTypes}
          />
        </section>

        {published ? (
          <section aria-labelledby="change-heading" class="mk-stack">
            <h2 class="ds-heading" data-size="sm" id="change-heading">
              {t('publisher.editor.change')}
            </h2>
            <ChoiceGroup
              ctx={ctx}
              name="change"
              type="radio"
              legend={t('publisher.editor.changeKind')}
              description={t('publisher.editor.changeHelp')}
              value={values.change}
              error={errors.change}
              choices={[
                { value: 'minor', label: t('publisher.editor.changeMinor') },
                { value: 'material', label: t('publisher.editor.changeMaterial') },
              ]}
            />
            <TextArea
              ctx={ctx}
              name="note"
              label={t('publisher.editor.note')}
              description={t('publisher.editor.noteHelp')}
              optional
              value={values.note}
              error={errors.note}
              rows={3}
              maxLength={500}
            />
          </section>
        ) : null}

        <div class="mk-inline mk-editor__buttons">
          <Button variant="tertiary" name="action" value="preview">
            {t('publisher.editor.previewButton')}
          </Button>
          {!announcement || status === 'draft' ? (
            <>
              <Button variant="secondary" name="action" value="draft">
                {t('publisher.editor.saveDraft')}
              </Button>
              <Button variant="secondary" name="action" value="schedule">
                {t('publisher.editor.schedule')}
              </Button>
              <Button name="action" value="publish">
                {t('publisher.editor.publishNow')}
              </Button>
            </>
          ) : null}
          {status === 'scheduled' ? (
            <>
              <Button variant="secondary" name="action" value="unschedule">
                {t('publisher.editor.unschedule')}
              </Button>
              <Button variant="secondary" name="action" value="save">
                {t('publisher.editor.saveScheduled')}
              </Button>
              <Button name="action" value="publish">
                {t('publisher.editor.publishNow')}
              </Button>
            </>
          ) : null}
          {published ? (
            <Button name="action" value="save">
              {t('publisher.editor.saveChanges')}
            </Button>
          ) : null}
        </div>
      </form>
      {published && announcement ? (
        <section aria-labelledby="retract-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="sm" id="retract-heading">
            {t('publisher.retract.heading')}
          </h2>
          <p class="ds-paragraph">{t('publisher.retract.help')}</p>
          <a
            class="ds-button"
            data-variant="secondary"
            data-color="danger"
            href={WEB_PATHS.retractAnnouncement(announcement.id)}
          >
            {t('publisher.retract.start')}
          </a>
        </section>
      ) : null}
    </Layout>
  );
}
