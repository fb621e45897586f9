/**
 * An announcement's page (/announcements/{id}), where e-mails, feeds and push messages lead: the rendered body
 * (sanitised by the server, src/content/markdown.ts, through TrustedHtml), the language versions (links with
 * `?lang=`), the maintenance window with its iCalendar file, the incident ↔ "resolved" follow-up link,
 * attachments, the readers' rating and views, and — for a signed-in reader — the rating form, "I have read this"
 * when asked for, and read/unread. Every form is a POST with the CSRF token that comes back here with 303.
 */
import type { ComponentChildren } from 'preact';
import type { Language } from '../../domain/types.js';
import type { AnnouncementPageData } from '../../services/reader-pages.js';
import { AffectedWindow, AnnouncementTags, Time } from '../components/announcements.js';
import { Alert, Button, ChoiceGroup, CsrfField, ErrorSummary, type FieldErrors } from '../components/forms.js';
import { TrustedHtml } from '../components/trusted-html.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { LOCALES } from '../i18n/translator.js';
import { Layout } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

export const ANNOUNCEMENT_DONE = ['rated', 'acknowledged', 'read', 'unread'] as const;
export type AnnouncementDone = (typeof ANNOUNCEMENT_DONE)[number];

const DONE_MESSAGE: Record<AnnouncementDone, MessageKey> = {
  rated: 'rating.saved',
  acknowledged: 'ack.saved',
  read: 'feed.markedRead',
  unread: 'feed.markedUnread',
};

export interface AnnouncementPageProps {
  ctx: PageContext;
  data: AnnouncementPageData;
  done?: AnnouncementDone | undefined;
  /** The rating form came back invalid (400). */
  ratingErrors?: FieldErrors | undefined;
}

/** Bytes as the reader writes sizes: "240 kB", "1,2 MB". */
function formatSize(language: Language, bytes: number): string {
  const [value, unit] =
    bytes >= 1_000_000 ? [bytes / 1_000_000, 'megabyte'] : bytes >= 1000 ? [bytes / 1000, 'kilobyte'] : [bytes, 'byte'];
  return new Intl.NumberFormat(LOCALES[language], {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: value < 10 ? 1 : 0,
  }).format(value);
}

export function AnnouncementPage(props: AnnouncementPageProps) {
  const { ctx, data } = props;
  const { announcement: a, channel } = data;
  // The version shown may be another language than the page's (pickVersion's fallback): say so, and mark it up.
  const contentLanguage = a.language !== ctx.language ? a.language : undefined;
  const here = WEB_PATHS.announcement(a.id);
  return (
    <Layout ctx={ctx} title={a.title} current="channels">
      <nav class="ds-breadcrumbs" aria-label={ctx.t('breadcrumbs.label')}>
        <ol>
          <li>
            <a class="ds-link" href={WEB_PATHS.channels}>
              {ctx.t('channels.title')}
            </a>
          </li>
          <li>
            <a class="ds-link" href={WEB_PATHS.channel(channel.slug)}>
              {channel.title}
            </a>
          </li>
        </ol>
      </nav>
      {props.done ? (
        <Alert color="success" role="status">
          {ctx.t(DONE_MESSAGE[props.done])}
        </Alert>
      ) : null}
      <article class="mk-stack" aria-labelledby="announcement-title">
        <AnnouncementTags ctx={ctx} announcement={{ ...a, pinned: false }} />
        <div class="mk-stack">
          <h1 class="ds-heading" data-size="lg" id="announcement-title" lang={contentLanguage}>
            {a.title}
          </h1>
          {a.summary ? (
            <p class="ds-paragraph" data-variant="long" lang={contentLanguage}>
              {a.summary}
            </p>
          ) : null}
        </div>
        <p class="mk-meta">
          {a.publishedAt ? (
            <span>
              {ctx.t('announcement.published')} <Time ctx={ctx} value={a.publishedAt} />
            </span>
          ) : null}
          {a.editedAt ? (
            <span>
              {ctx.t('announcement.edited')} <Time ctx={ctx} value={a.editedAt} />
            </span>
          ) : null}
          <span>{ctx.t('announcement.author', { name: a.author?.name ?? ctx.t('announcement.formerUser') })}</span>
          {a.expiresAt ? (
            <span>
              {ctx.t(a.expired ? 'announcement.expiredAt' : 'announcement.expiresAt')}{' '}
              <Time ctx={ctx} value={a.expiresAt} />
            </span>
          ) : null}
        </p>
        <LanguageVersions ctx={ctx} data={data} />
        {data.resolvedBy ? (
          <Alert color="success">
            {ctx.t('announcement.resolvedBy')}{' '}
            <a class="ds-link" href={WEB_PATHS.announcement(data.resolvedBy.id)}>
              {data.resolvedBy.title}
            </a>
          </Alert>
        ) : null}
        {data.resolves ? (
          <p class="ds-paragraph">
            {ctx.t('announcement.resolves')}{' '}
            <a class="ds-link" href={WEB_PATHS.announcement(data.resolves.id)}>
              {data.resolves.title}
            </a>
          </p>
        ) : null}
        {a.affectedSystem || a.startsAt ? (
          <div class="ds-card mk-stack" data-variant="tinted">
            <AffectedWindow ctx={ctx} announcement={a} />
            {a.calendarUrl ? (
              <p class="ds-paragraph">
                <a class="ds-link" href={`${WEB_PATHS.announcementCalendar(a.id)}?lang=${a.language}`} download>
                  {ctx.t('announcement.calendar')}
                </a>
              </p>
            ) : null}
          </div>
        ) : null}
        <div lang={contentLanguage}>
          <TrustedHtml class="mk-prose ds-paragraph" html={{ sanitisedHtml: a.bodyHtml }} />
        </div>
        {a.attachments.length > 0 ? (
          <section aria-labelledby="attachments-heading" class="mk-stack">
            <h2 class="ds-heading" data-size="sm" id="attachments-heading">
              {ctx.t('announcement.attachments')}
            </h2>
            <ul class="ds-list">
              {a.attachments.map((file) => (
                <li key={file.id}>
                  <a class="ds-link" href={file.url}>
                    {file.filename}
                  </a>{' '}
                  <span class="mk-meta mk-meta--inline">({formatSize(ctx.language, file.size)})</span>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </article>
      <Acknowledgement ctx={ctx} data={data} here={here} />
      <section aria-labelledby="reception-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="reception-heading">
          {ctx.t('rating.heading')}
        </h2>
        <p class="mk-meta">
          <span>
            {a.rating && a.rating.votes > 0 && a.rating.average !== null
              ? ctx.t('rating.average', {
                  average: new Intl.NumberFormat(LOCALES[ctx.language], { maximumFractionDigits: 1 }).format(
                    a.rating.average,
                  ),
                  count: a.rating.votes,
                })
              : ctx.t('rating.none')}
          </span>
          <span>{ctx.t('announcement.views', { count: a.views ?? 0 })}</span>
        </p>
        <RatingForm ctx={ctx} data={data} errors={props.ratingErrors} />
      </section>
      {data.reader ? (
        <form method="post" action={WEB_PATHS.myFeedRead(a.id)} class="mk-inline">
          <CsrfField ctx={ctx} />
          <input type="hidden" name="read" value={data.reader.read ? 'false' : 'true'} />
          <input type="hidden" name="returnTo" value={here} />
          <p class="ds-paragraph">{ctx.t(data.reader.read ? 'feed.isRead' : 'feed.isUnread')}</p>
          <Button variant="secondary">{ctx.t(data.reader.read ? 'feed.markUnread' : 'feed.markRead')}</Button>
        </form>
      ) : null}
      <Revisions ctx={ctx} data={data} />
      <p class="ds-paragraph">
        <a class="ds-link" href={WEB_PATHS.channel(channel.slug)}>
          {ctx.t('announcement.moreIn', { channel: channel.title })}
        </a>
      </p>
    </Layout>
  );
}

function LanguageVersions({ ctx, data }: { ctx: PageContext; data: AnnouncementPageData }) {
  const a = data.announcement;
  if (a.languages.length < 2 && a.language === ctx.language) return null;
  return (
    <nav class="mk-stack" aria-labelledby="versions-heading">
      {a.language !== ctx.language ? (
        <p class="ds-paragraph">{ctx.t('announcement.fallback', { shown: ctx.t(`language.${a.language}`) })}</p>
      ) : null}
      {a.languages.length > 1 ? (
        <>
          <h2 class="ds-heading" data-size="2xs" id="versions-heading">
            {ctx.t('announcement.versions')}
          </h2>
          <ul class="mk-inline mk-plain-list">
            {a.languages.map((language) => (
              <li key={language}>
                <a
                  class="ds-link"
                  href={`${WEB_PATHS.announcement(a.id)}?lang=${language}`}
                  hrefLang={language}
                  lang={language}
                  aria-current={language === a.language ? 'true' : undefined}
                >
                  {ctx.t(`language.${language}`)}
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </nav>
  );
}

function Acknowledgement({ ctx, data, here }: { ctx: PageContext; data: AnnouncementPageData; here: string }) {
  const a = data.announcement;
  if (!a.acknowledgement.required) return null;
  let body: ComponentChildren;
  if (!ctx.viewer) {
    body = ctx.site.signInAvailable ? (
      <p class="ds-paragraph">
        <a class="ds-link" href={WEB_PATHS.signIn(here)}>
          {ctx.t('ack.signIn')}
        </a>
      </p>
    ) : null;
  } else if (a.acknowledged) {
    body = <p class="ds-paragraph">{ctx.t('ack.done')}</p>;
  } else {
    body = (
      <form method="post" action={WEB_PATHS.announcementAcknowledgement(a.id)}>
        <CsrfField ctx={ctx} />
        <Button>{ctx.t('ack.button')}</Button>
      </form>
    );
  }
  return (
    <section aria-labelledby="ack-heading" class="mk-stack ds-card" data-variant="tinted">
      <h2 class="ds-heading" data-size="sm" id="ack-heading">
        {ctx.t('ack.heading')}
      </h2>
      <p class="ds-paragraph">
        {ctx.t('ack.text')}
        {a.acknowledgement.deadline ? (
          <>
            {' '}
            {ctx.t('ack.deadline')} <Time ctx={ctx} value={a.acknowledgement.deadline} />
          </>
        ) : null}
      </p>
      {body}
    </section>
  );
}

function RatingForm({
  ctx,
  data,
  errors,
}: {
  ctx: PageContext;
  data: AnnouncementPageData;
  errors: FieldErrors | undefined;
}) {
  const a = data.announcement;
  if (!data.reader) {
    return ctx.site.signInAvailable ? (
      <p class="ds-paragraph">
        <a class="ds-link" href={WEB_PATHS.signIn(WEB_PATHS.announcement(a.id))}>
          {ctx.t('rating.signIn')}
        </a>
      </p>
    ) : null;
  }
  return (
    <>
      <ErrorSummary ctx={ctx} errors={errors} />
      <form method="post" action={WEB_PATHS.announcementRating(a.id)} class="mk-stack">
        <CsrfField ctx={ctx} />
        <ChoiceGroup
          ctx={ctx}
          name="stars"
          type="radio"
          legend={ctx.t('rating.legend')}
          description={data.reader.stars ? ctx.t('rating.yours', { count: data.reader.stars }) : undefined}
          choices={[1, 2, 3, 4, 5].map((stars) => ({
            value: String(stars),
            label: ctx.t(`rating.stars.${stars as 1 | 2 | 3 | 4 | 5}`),
          }))}
          value={data.reader.stars ? String(data.reader.stars) : undefined}
          error={errors?.stars}
        />
        <Button variant="secondary">{ctx.t('rating.button')}</Button>
      </form>
    </>
  );
}

function Revisions({ ctx, data }: { ctx: PageContext; data: AnnouncementPageData }) {
  if (data.revisions.length < 2) return null;
  return (
    <section aria-labelledby="revisions-heading" class="mk-stack">
      <h2 class="ds-heading" data-size="sm" id="revisions-heading">
        {ctx.t('revisions.heading')}
      </h2>
      <ol class="mk-revisions">
        {data.revisions.map((revision) => (
          <li key={revision.revision}>
            <details class="ds-details">
              <summary>
                {ctx.t('revisions.revision', { number: revision.revision })}
                {' · '}
                <Time ctx={ctx} value={revision.createdAt} />
                {' · '}
                {ctx.t(
                  revision.revision === 1
                    ? 'revisions.original'
                    : revision.material
                      ? 'revisions.material'
                      : 'revisions.minor',
                )}
              </summary>
              <div class="mk-stack">
                {revision.editor ? (
                  <p class="mk-meta">{ctx.t('revisions.by', { name: revision.editor.name })}</p>
                ) : null}
                {revision.note ? <p class="ds-paragraph">{ctx.t('revisions.note', { note: revision.note })}</p> : null}
                <h3
                  class="ds-heading"
                  data-size="2xs"
                  lang={revision.content.language !== ctx.language ? revision.content.language : undefined}
                >
                  {revision.content.title}
                </h3>
                <div lang={revision.content.language !== ctx.language ? revision.content.language : undefined}>
                  <TrustedHtml class="mk-prose ds-paragraph" html={{ sanitisedHtml: revision.content.bodyHtml }} />
                </div>
              </div>
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
