/** The page people see when something fails: what happened in their language, and the request id to quote. */
import type { ErrorCode } from '../../domain/errors.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

const WORDS: Partial<Record<ErrorCode, { title: MessageKey; text: MessageKey }>> = {
  not_found: { title: 'error.notFound.title', text: 'error.notFound.text' },
  forbidden: { title: 'error.forbidden.title', text: 'error.forbidden.text' },
  csrf_failed: { title: 'error.forbidden.title', text: 'error.forbidden.text' },
  unauthenticated: { title: 'error.forbidden.title', text: 'auth.signInToContinue' },
  rate_limited: { title: 'error.tooMany.title', text: 'error.tooMany.text' },
  service_unavailable: { title: 'error.unavailable.title', text: 'error.unavailable.text' },
};

export function ErrorPage(props: {
  ctx: PageContext;
  code: ErrorCode;
  /** Shown for client errors, whose messages are meant for the client (never for 5xx). */
  message?: string | undefined;
  requestId: string;
}) {
  const { ctx } = props;
  const words = WORDS[props.code];
  const title = ctx.t(words?.title ?? (props.message ? 'error.badRequest.title' : 'error.title'));
  return (
    <Layout ctx={ctx} title={title} head={<meta name="robots" content="noindex" />}>
      <PageHeading title={title} />
      <p class="ds-paragraph">{words ? ctx.t(words.text) : (props.message ?? ctx.t('error.internal.text'))}</p>
      {props.code === 'unauthenticated' && ctx.site.signInAvailable ? (
        <p class="ds-paragraph">
          <a class="ds-button" data-variant="primary" href={WEB_PATHS.signIn(ctx.path)}>
            {ctx.t('auth.signIn')}
          </a>
        </p>
      ) : null}
      <p class="ds-paragraph" data-size="sm">
        {ctx.t('error.requestId', { id: props.requestId })}
      </p>
      <p class="ds-paragraph">
        <a class="ds-link" href={WEB_PATHS.home}>
          {ctx.t('error.backHome')}
        </a>
      </p>
    </Layout>
  );
}
