/**
 * What the administrators' pages share: their frame (the site's layout with the admin area's own navigation, the
 * page heading, the notice after a redirect and the error summary), the sections the start page and that
 * navigation list, and small pieces (facts lists, yes/no, visibility, people's links).
 */
import type { ComponentChildren } from 'preact';
import type { ChannelVisibility } from '../../../domain/types.js';
import { Alert, ErrorSummary, type FieldErrors } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import type { MessageKey } from '../../i18n/catalogue.js';
import { Layout, PageHeading } from '../../layout.js';
import { WEB_PATHS } from '../../paths.js';

export type AdminSection =
  | 'start'
  | 'channels'
  | 'organisations'
  | 'users'
  | 'tokens'
  | 'audit'
  | 'suppressions'
  | 'queues';

/** The admin area's sections, in the order the start page and the navigation show them. */
export const ADMIN_SECTIONS: readonly {
  section: Exclude<AdminSection, 'start'>;
  href: string;
  title: MessageKey;
  lead: MessageKey;
}[] = [
  { section: 'channels', href: WEB_PATHS.adminChannels, title: 'admin.channels.title', lead: 'admin.channels.lead' },
  {
    section: 'organisations',
    href: WEB_PATHS.adminOrganisations,
    title: 'admin.organisations.title',
    lead: 'admin.organisations.lead',
  },
  { section: 'users', href: WEB_PATHS.adminUsers, title: 'admin.users.title', lead: 'admin.users.lead' },
  { section: 'tokens', href: WEB_PATHS.adminTokens, title: 'admin.tokens.title', lead: 'admin.tokens.lead' },
  { section: 'audit', href: WEB_PATHS.adminAudit, title: 'admin.audit.title', lead: 'admin.audit.lead' },
  {
    section: 'suppressions',
    href: WEB_PATHS.adminSuppressions,
    title: 'admin.suppressions.title',
    lead: 'admin.suppressions.lead',
  },
  { section: 'queues', href: WEB_PATHS.adminQueues, title: 'admin.queues.title', lead: 'admin.queues.lead' },
];

/** The message a page shows after the redirect of a successful POST (`?done=`). */
export interface Notice {
  color: 'success' | 'info' | 'warning';
  text: string;
}

export interface AdminFrameProps {
  ctx: PageContext;
  /** The page's title (its `<h1>` and the document title). */
  title: string;
  section: AdminSection;
  lead?: ComponentChildren;
  notice?: Notice | undefined;
  errors?: FieldErrors | undefined;
  children?: ComponentChildren;
}

/** The admin area's navigation: the start page and each section, the current one marked (aria-current). */
function AdminNavigation({ ctx, section }: { ctx: PageContext; section: AdminSection }) {
  const items = [
    { section: 'start' as const, href: WEB_PATHS.admin, title: 'admin.start.title' as const },
    ...ADMIN_SECTIONS,
  ];
  return (
    <nav class="mk-admin-nav" aria-label={ctx.t('admin.nav.label')}>
      <ul>
        {items.map((item) => (
          <li key={item.section}>
            <a class="ds-link" href={item.href} aria-current={item.section === section ? 'page' : undefined}>
              {ctx.t(item.title)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function AdminFrame(props: AdminFrameProps) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title={props.title} current="admin" head={<meta name="robots" content="noindex" />}>
      <AdminNavigation ctx={ctx} section={props.section} />
      <PageHeading title={props.title} lead={props.lead} />
      <ErrorSummary ctx={ctx} errors={props.errors} />
      {props.notice ? (
        <Alert color={props.notice.color} role="status">
          {props.notice.text}
        </Alert>
      ) : null}
      {props.children}
    </Layout>
  );
}

/** A list of facts about one thing (a person, a token, a suppression): term and value. */
export function Facts({ items }: { items: readonly { term: string; value: ComponentChildren }[] }) {
  return (
    <dl class="mk-admin-facts">
      {items.map((item) => (
        <div key={item.term}>
          <dt>{item.term}</dt>
          <dd>{item.value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function YesNo({ ctx, value }: { ctx: PageContext; value: boolean }) {
  return <>{ctx.t(value ? 'admin.yes' : 'admin.no')}</>;
}

const VISIBILITY_COLOURS: Record<ChannelVisibility, 'success' | 'info' | 'warning'> = {
  public: 'success',
  internal: 'info',
  restricted: 'warning',
};

/** A channel's visibility as a tag ("Offentlig", "Intern", "Begrenset"). */
export function VisibilityTag({ ctx, visibility }: { ctx: PageContext; visibility: ChannelVisibility }) {
  return (
    <span class="ds-tag" data-color={VISIBILITY_COLOURS[visibility]}>
      {ctx.t(`publisher.visibility.${visibility}`)}
    </span>
  );
}

/** A person's name as a link to their admin page. */
export function PersonLink({ userId, name }: { userId: string; name: string }) {
  return (
    <a class="ds-link" href={WEB_PATHS.adminUser(userId)}>
      {name}
    </a>
  );
}

/** A time as `<time>`, or the word for "never" / "not yet". */
export function TimeOrNever({ ctx, value, never }: { ctx: PageContext; value: string | null; never: MessageKey }) {
  if (!value) return <>{ctx.t(never)}</>;
  return <time dateTime={value}>{ctx.dateTime(new Date(value))}</time>;
}
