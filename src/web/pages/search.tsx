/**
 * Search (/search): a GET form — words, type, importance, channel — so results can be linked and the back button
 * works, and the hits with their highlighted snippets (plain-text segments from src/services/search.ts, marked up
 * here with <mark>, never parsed as HTML), paged with the search's cursor.
 */
import { ANNOUNCEMENT_TYPES } from '../../domain/announcement.js';
import { IMPORTANCES } from '../../domain/types.js';
import type { SearchHit } from '../../services/search.js';
import { AnnouncementTags, KeysetPagination, Time, typeLabel, withQuery } from '../components/announcements.js';
import { ErrorSummary, type FieldErrors, SelectField, TextField } from '../components/forms.js';
import type { PageContext } from '../context.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

/** The filters as the form sent them (strings, so a refused value is shown back as typed). */
export interface SearchFilters {
  q: string;
  type: string;
  importance: string;
  channel: string;
}

export interface SearchPageProps {
  ctx: PageContext;
  filters: SearchFilters;
  /** The channels to narrow to (those the reader may read). */
  channels: readonly { slug: string; title: string }[];
  /** Null before anything was searched for. */
  hits: readonly SearchHit[] | null;
  nextCursor: string | null;
  onLaterPage: boolean;
  errors?: FieldErrors | undefined;
}

const IMPORTANCE_KEYS = {
  info: 'search.importance.info',
  important: 'announcement.importance.important',
  critical: 'announcement.importance.critical',
} as const;

export function SearchPage(props: SearchPageProps) {
  const { ctx, filters } = props;
  const queryOf = (cursor: string | null) =>
    withQuery(WEB_PATHS.search, {
      q: filters.q,
      type: filters.type,
      importance: filters.importance,
      channel: filters.channel,
      cursor,
    });
  return (
    <Layout
      ctx={ctx}
      title={filters.q ? ctx.t('search.titleFor', { q: filters.q }) : ctx.t('search.title')}
      current="search"
      head={<meta name="robots" content="noindex" />}
    >
      <PageHeading title={ctx.t('search.title')} lead={ctx.t('search.lead')} />
      <ErrorSummary ctx={ctx} errors={props.errors} />
      <search>
        <form method="get" action={WEB_PATHS.search} class="mk-stack mk-search-form" noValidate>
          <TextField
            ctx={ctx}
            name="q"
            type="search"
            label={ctx.t('search.q')}
            value={filters.q}
            error={props.errors?.q}
            maxLength={200}
          />
          <div class="mk-filters">
            <SelectField
              ctx={ctx}
              name="type"
              optional
              label={ctx.t('search.type')}
              value={filters.type}
              choices={[
                { value: '', label: ctx.t('search.any') },
                ...ANNOUNCEMENT_TYPES.map((type) => ({ value: type, label: typeLabel(ctx, type) })),
              ]}
              error={props.errors?.type}
            />
            <SelectField
              ctx={ctx}
              name="importance"
              optional
              label={ctx.t('search.importance')}
              value={filters.importance}
              choices={[
                { value: '', label: ctx.t('search.any') },
                ...IMPORTANCES.map((importance) => ({ value: importance, label: ctx.t(IMPORTANCE_KEYS[importance]) })),
              ]}
              error={props.errors?.importance}
            />
            <SelectField
              ctx={ctx}
              name="channel"
              optional
              label={ctx.t('search.channel')}
              value={filters.channel}
              choices={[
                { value: '', label: ctx.t('search.anyChannel') },
                ...props.channels.map((channel) => ({ value: channel.slug, label: channel.title })),
              ]}
              error={props.errors?.channel}
            />
          </div>
          <div>
            <button class="ds-button" data-variant="primary" type="submit">
              {ctx.t('search.button')}
            </button>
          </div>
        </form>
      </search>
      {props.hits === null ? null : (
        <section aria-labelledby="results-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="md" id="results-heading">
            {ctx.t('search.results')}
          </h2>
          {props.hits.length === 0 ? (
            <p class="ds-paragraph" role="status">
              {ctx.t('search.noResults')}
            </p>
          ) : (
            <ul class="mk-announcements">
              {props.hits.map((hit) => (
                <SearchResult key={hit.id} ctx={ctx} hit={hit} />
              ))}
            </ul>
          )}
          <KeysetPagination
            ctx={ctx}
            nextCursor={props.nextCursor}
            onLaterPage={props.onLaterPage}
            hrefFor={queryOf}
            order="alphabet"
          />
        </section>
      )}
    </Layout>
  );
}

function SearchResult({ ctx, hit }: { ctx: PageContext; hit: SearchHit }) {
  const lang = hit.language !== ctx.language ? hit.language : undefined;
  const snippetLang = hit.snippetLanguage !== ctx.language ? hit.snippetLanguage : undefined;
  return (
    <li class="ds-card mk-announcement" data-importance={hit.importance}>
      <AnnouncementTags
        ctx={ctx}
        announcement={{ importance: hit.importance, type: hit.type, expired: hit.expired, resolves: null }}
      />
      <h3 class="ds-heading mk-announcement__title" data-size="xs">
        <a class="ds-link" href={WEB_PATHS.announcement(hit.id)} lang={lang}>
          {hit.title}
        </a>
      </h3>
      <p class="mk-meta">
        <a class="ds-link" href={WEB_PATHS.channel(hit.channel.slug)}>
          {hit.channel.title}
        </a>
        <span>
          {ctx.t('announcement.published')} <Time ctx={ctx} value={hit.publishedAt} relative />
        </span>
      </p>
      {hit.snippet.length > 0 ? (
        <p class="ds-paragraph mk-snippet" lang={snippetLang}>
          {hit.snippet.map((segment, index) =>
            segment.match ? <mark key={index}>{segment.text}</mark> : <span key={index}>{segment.text}</span>,
          )}
        </p>
      ) : hit.summary ? (
        <p class="ds-paragraph" lang={lang}>
          {hit.summary}
        </p>
      ) : null}
    </li>
  );
}
