/**
 * The pages of signing in and out (src/http/routes/auth.ts): what went wrong with a sign-in — what happened and what
 * to do, nothing about why (no codes, no claim values) —, and the sign-out step behind GET /auth/logout, whose
 * button is the only thing that signs out (a POST with the CSRF token). A sign-in problem is also written in
 * English when the page is not: it may come before the service knows anyone's language.
 */
import { CsrfField } from '../components/forms.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { translator } from '../i18n/translator.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

export type SignInProblem = 'failed' | 'unavailable' | 'not_configured';

const WORDS: Record<SignInProblem, { title: MessageKey; text: MessageKey }> = {
  failed: { title: 'signIn.failed.title', text: 'signIn.failed.text' },
  unavailable: { title: 'signIn.unavailable.title', text: 'signIn.unavailable.text' },
  not_configured: { title: 'signIn.notConfigured.title', text: 'signIn.notConfigured.text' },
};

export function SignInProblemPage({
  ctx,
  problem,
  requestId,
}: {
  ctx: PageContext;
  problem: SignInProblem;
  requestId: string;
}) {
  const words = WORDS[problem];
  const english = translator('en');
  // The callback's address carries the provider's one-time code: the frame must not carry it along.
  return (
    <Layout ctx={ctx} title={ctx.t(words.title)} head={<meta name="robots" content="noindex" />} addressHoldsSecret>
      <PageHeading title={ctx.t(words.title)} lead={ctx.t(words.text)} />
      {ctx.language !== 'en' ? (
        <section lang="en" class="mk-stack" aria-labelledby="problem-en">
          <h2 class="ds-heading" data-size="sm" id="problem-en">
            {english.t(words.title)}
          </h2>
          <p class="ds-paragraph">{english.t(words.text)}</p>
        </section>
      ) : null}
      {problem !== 'not_configured' ? (
        <p class="ds-paragraph">
          <a class="ds-button" data-variant="primary" href={WEB_PATHS.signIn()}>
            {ctx.t('signIn.retry')}
          </a>
        </p>
      ) : null}
      <p class="ds-paragraph">
        <a class="ds-link" href={WEB_PATHS.home}>
          {ctx.t('error.backHome')}
        </a>
      </p>
      <p class="ds-paragraph" data-size="sm">
        {ctx.t('error.requestId', { id: requestId })}
      </p>
    </Layout>
  );
}

/** GET /auth/logout: the question and its button; for a visitor who is not signed in, just that. */
export function SignOutPage({ ctx }: { ctx: PageContext }) {
  return (
    <Layout ctx={ctx} title={ctx.t('signOut.title')} head={<meta name="robots" content="noindex" />}>
      <PageHeading title={ctx.t('signOut.title')} />
      {ctx.viewer ? (
        <form method="post" action={WEB_PATHS.signOut} class="mk-inline">
          <p class="ds-paragraph">{ctx.t('signOut.question')}</p>
          <CsrfField ctx={ctx} />
          <button class="ds-button" data-variant="primary" type="submit">
            {ctx.t('auth.signOut')}
          </button>
          <a class="ds-link" href={WEB_PATHS.home}>
            {ctx.t('form.cancel')}
          </a>
        </form>
      ) : (
        <p class="ds-paragraph">
          {ctx.t('signOut.notSignedIn')}{' '}
          <a class="ds-link" href={WEB_PATHS.home}>
            {ctx.t('error.backHome')}
          </a>
        </p>
      )}
    </Layout>
  );
}
