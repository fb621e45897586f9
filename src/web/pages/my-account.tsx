/**
 * My account (/me/account): who I am to the service; my API tokens (create — the secret is shown on the page that
 * answers the POST, once, and nowhere else — and revoke); personal feed URLs for feed readers (the same); the
 * download of everything the service holds about me (the API's file, GET /api/v1/me/export); and the way to delete
 * the account, through a confirmation page (/me/account/delete).
 */
import type { TokenScope } from '../../domain/types.js';
import type { NewTokenView, TokenView } from '../../services/api-tokens.js';
import type { FeedTokenView, NewFeedTokenView } from '../../services/feed-tokens.js';
import { Time } from '../components/announcements.js';
import {
  Alert,
  Button,
  ChoiceGroup,
  CsrfField,
  ErrorSummary,
  type FieldErrors,
  TextField,
} from '../components/forms.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

export const ACCOUNT_DONE = ['token-revoked', 'feed-url-revoked'] as const;
export type AccountDone = (typeof ACCOUNT_DONE)[number];

const DONE_MESSAGE: Record<AccountDone, MessageKey> = {
  'token-revoked': 'account.tokens.revoked',
  'feed-url-revoked': 'account.feeds.revoked',
};

export const SCOPE_LABEL: Record<TokenScope, MessageKey> = {
  read: 'scope.read',
  publish: 'scope.publish',
  admin: 'scope.admin',
};

export interface AccountProfile {
  displayName: string;
  email: string | null;
  organisation: string | null;
}

export interface MyAccountPageProps {
  ctx: PageContext;
  profile: AccountProfile;
  tokens: readonly TokenView[];
  /** The scopes this person may give a token. */
  allowedScopes: readonly TokenScope[];
  feedTokens: readonly FeedTokenView[];
  /** Just created (the POST's own answer): shown once. */
  newToken?: NewTokenView | undefined;
  newFeedToken?: NewFeedTokenView | undefined;
  done?: AccountDone | undefined;
  /** The token form as submitted (400). */
  tokenForm?: { name: string; scopes: readonly string[]; expiresInDays: string; errors: FieldErrors } | undefined;
}

export function MyAccountPage(props: MyAccountPageProps) {
  const { ctx, profile } = props;
  return (
    <Layout ctx={ctx} title={ctx.t('account.title')} current="account" scripts={['entries/copy.js']}>
      {props.done ? (
        <Alert color="success" role="status">
          {ctx.t(DONE_MESSAGE[props.done])}
        </Alert>
      ) : null}
      <ErrorSummary ctx={ctx} errors={props.tokenForm?.errors} />
      <PageHeading title={ctx.t('account.title')} />
      <section aria-labelledby="profile-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="profile-heading">
          {ctx.t('account.profile.heading')}
        </h2>
        <dl class="mk-facts">
          <dt>{ctx.t('account.profile.name')}</dt>
          <dd>{profile.displayName}</dd>
          <dt>{ctx.t('account.profile.email')}</dt>
          <dd>{profile.email ?? ctx.t('common.none')}</dd>
          <dt>{ctx.t('account.profile.organisation')}</dt>
          <dd>{profile.organisation ?? ctx.t('common.none')}</dd>
        </dl>
      </section>
      <TokensSection {...props} />
      <FeedUrlsSection {...props} />
      <section aria-labelledby="export-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="export-heading">
          {ctx.t('account.export.heading')}
        </h2>
        <p class="ds-paragraph">{ctx.t('account.export.text')}</p>
        <p class="ds-paragraph">
          <a class="ds-button" data-variant="secondary" href={WEB_PATHS.myDataExport} download>
            {ctx.t('account.export.download')}
          </a>
        </p>
      </section>
      <section aria-labelledby="delete-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="delete-heading">
          {ctx.t('account.delete.heading')}
        </h2>
        <p class="ds-paragraph">{ctx.t('account.delete.text')}</p>
        <p class="ds-paragraph">
          <a class="ds-link" href={WEB_PATHS.myAccountDeletion}>
            {ctx.t('account.delete.start')}
          </a>
        </p>
      </section>
    </Layout>
  );
}

/** A secret shown once, in a read-only field to copy (entries/copy.ts adds a copy button). */
function SecretField({ ctx, id, label, value }: { ctx: PageContext; id: string; label: string; value: string }) {
  return (
    <div class="mk-stack" data-copy>
      <ds-field class="ds-field">
        <label class="ds-label" for={id} data-weight="medium">
          {label}
        </label>
        <input class="ds-input mk-code" id={id} readOnly value={value} spellcheck={false} data-copy-source />
      </ds-field>
      <p class="mk-inline" data-copy-controls hidden>
        <button class="ds-button" data-variant="secondary" data-size="sm" type="button" data-copy-button>
          {ctx.t('channel.widget.copy')}
        </button>
        <span role="status" data-copy-status data-copied-text={ctx.t('channel.widget.copied')} />
      </p>
    </div>
  );
}

function TokensSection(props: MyAccountPageProps) {
  const { ctx } = props;
  const form = props.tokenForm;
  return (
    <section aria-labelledby="tokens-heading" class="mk-stack">
      <h2 class="ds-heading" data-size="sm" id="tokens-heading">
        {ctx.t('account.tokens.heading')}
      </h2>
      <p class="ds-paragraph">{ctx.t('account.tokens.text')}</p>
      {props.newToken ? (
        <Alert color="warning" role="status">
          <div class="mk-stack">
            <p class="ds-paragraph">{ctx.t('account.tokens.created', { name: props.newToken.name })}</p>
            <SecretField ctx={ctx} id="new-token" label={ctx.t('account.tokens.secret')} value={props.newToken.token} />
          </div>
        </Alert>
      ) : null}
      {props.tokens.length === 0 ? (
        <p class="ds-paragraph">{ctx.t('account.tokens.none')}</p>
      ) : (
        <div class="mk-table-scroll">
          <table class="ds-table" data-border>
            <caption class="mk-visually-hidden">{ctx.t('account.tokens.heading')}</caption>
            <thead>
              <tr>
                <th scope="col">{ctx.t('account.tokens.name')}</th>
                <th scope="col">{ctx.t('account.tokens.scopes')}</th>
                <th scope="col">{ctx.t('account.tokens.lastUsed')}</th>
                <th scope="col">{ctx.t('account.tokens.expires')}</th>
                <th scope="col">
                  <span class="mk-visually-hidden">{ctx.t('account.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.tokens.map((token) => (
                <tr key={token.id}>
                  <th scope="row">
                    {token.name} <code class="mk-meta--inline">{token.prefix}…</code>
                  </th>
                  <td>{token.scopes.map((scope) => ctx.t(SCOPE_LABEL[scope])).join(', ')}</td>
                  <td>
                    {token.lastUsedAt ? <Time ctx={ctx} value={token.lastUsedAt} relative /> : ctx.t('account.never')}
                  </td>
                  <td>{token.expiresAt ? <Time ctx={ctx} value={token.expiresAt} /> : ctx.t('account.never')}</td>
                  <td>
                    <form method="post" action={WEB_PATHS.myTokenRevoke(token.id)}>
                      <CsrfField ctx={ctx} />
                      <Button variant="tertiary" data-size="sm">
                        {ctx.t('account.tokens.revoke', { name: token.name })}
                      </Button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details class="ds-details" open={form ? true : undefined}>
        <summary>{ctx.t('account.tokens.new')}</summary>
        <form method="post" action={WEB_PATHS.myTokens} class="mk-stack" noValidate>
          <CsrfField ctx={ctx} />
          <TextField
            ctx={ctx}
            name="name"
            label={ctx.t('account.tokens.name')}
            description={ctx.t('account.tokens.nameHelp')}
            value={form?.name}
            error={form?.errors.name}
            maxLength={100}
          />
          <ChoiceGroup
            ctx={ctx}
            name="scopes"
            type="checkbox"
            legend={ctx.t('account.tokens.scopes')}
            choices={props.allowedScopes.map((scope) => ({ value: scope, label: ctx.t(SCOPE_LABEL[scope]) }))}
            value={form?.scopes ?? ['read']}
            error={form?.errors.scopes}
          />
          <TextField
            ctx={ctx}
            name="expiresInDays"
            type="number"
            inputMode="numeric"
            min={1}
            max={365}
            label={ctx.t('account.tokens.lifetime')}
            value={form?.expiresInDays ?? '90'}
            error={form?.errors.expiresInDays}
          />
          <div>
            <Button>{ctx.t('account.tokens.create')}</Button>
          </div>
        </form>
      </details>
    </section>
  );
}

function FeedUrlsSection(props: MyAccountPageProps) {
  const { ctx } = props;
  return (
    <section aria-labelledby="feed-urls-heading" class="mk-stack">
      <h2 class="ds-heading" data-size="sm" id="feed-urls-heading">
        {ctx.t('account.feeds.heading')}
      </h2>
      <p class="ds-paragraph">{ctx.t('account.feeds.text')}</p>
      {props.newFeedToken ? (
        <Alert color="warning" role="status">
          <div class="mk-stack">
            <p class="ds-paragraph">{ctx.t('account.feeds.created')}</p>
            <SecretField ctx={ctx} id="new-feed-atom" label="Atom" value={props.newFeedToken.urls.atom} />
            <SecretField ctx={ctx} id="new-feed-rss" label="RSS" value={props.newFeedToken.urls.rss} />
            <SecretField ctx={ctx} id="new-feed-json" label="JSON Feed" value={props.newFeedToken.urls.json} />
          </div>
        </Alert>
      ) : null}
      {props.feedTokens.length === 0 ? (
        <p class="ds-paragraph">{ctx.t('account.feeds.none')}</p>
      ) : (
        <ul class="mk-plain-list mk-stack">
          {props.feedTokens.map((token) => (
            <li key={token.id} class="mk-inline">
              <span>
                <code>{token.prefix}…</code> {ctx.t('account.feeds.createdAt')}{' '}
                <Time ctx={ctx} value={token.createdAt} />
                {' · '}
                {ctx.t('account.tokens.lastUsed')}:{' '}
                {token.lastUsedAt ? <Time ctx={ctx} value={token.lastUsedAt} relative /> : ctx.t('account.never')}
              </span>
              <form method="post" action={WEB_PATHS.myFeedUrlRevoke(token.id)}>
                <CsrfField ctx={ctx} />
                <Button variant="tertiary" data-size="sm">
                  {ctx.t('account.feeds.revoke', { prefix: token.prefix })}
                </Button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <form method="post" action={WEB_PATHS.myFeedUrls}>
        <CsrfField ctx={ctx} />
        <Button variant="secondary">{ctx.t('account.feeds.create')}</Button>
      </form>
    </section>
  );
}

/** The confirmation step before deleting the account: what goes, what stays, and a checkbox that says "I know". */
export function DeleteAccountPage({ ctx, errors }: { ctx: PageContext; errors?: FieldErrors | undefined }) {
  return (
    <Layout ctx={ctx} title={ctx.t('account.delete.title')} current="account">
      <ErrorSummary ctx={ctx} errors={errors} />
      <PageHeading title={ctx.t('account.delete.title')} lead={ctx.t('account.delete.lead')} />
      <ul class="ds-list">
        <li>{ctx.t('account.delete.goes')}</li>
        <li>{ctx.t('account.delete.stays')}</li>
        <li>{ctx.t('account.delete.final')}</li>
      </ul>
      <form method="post" action={WEB_PATHS.myAccountDeletion} class="mk-stack" noValidate>
        <CsrfField ctx={ctx} />
        <ChoiceGroup
          ctx={ctx}
          name="confirm"
          type="checkbox"
          legend={ctx.t('account.delete.legend')}
          choices={[{ value: 'yes', label: ctx.t('account.delete.understand') }]}
          value={undefined}
          error={errors?.confirm}
        />
        <div class="mk-inline">
          <button class="ds-button" data-variant="primary" data-color="danger" type="submit">
            {ctx.t('account.delete.confirm')}
          </button>
          <a class="ds-link" href={WEB_PATHS.myAccount}>
            {ctx.t('form.cancel')}
          </a>
        </div>
      </form>
    </Layout>
  );
}
