/**
 * Everyone's API tokens for administrators (/admin/tokens, newest first, keyset pages; `?user=` one person's): owner,
 * name, prefix, scopes, last use and expiry — never a secret — and the confirmation step of revoking one
 * (/admin/tokens/{id}/revoke).
 */
import type { TokenScope } from '../../../domain/types.js';
import type { AdminTokenView } from '../../../services/api-tokens.js';
import { KeysetPagination, withQuery } from '../../components/announcements.js';
import { Button, CsrfField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame, Facts, type Notice, PersonLink, TimeOrNever } from './shared.js';

function scopeList(ctx: PageContext, scopes: readonly TokenScope[]): string {
  return scopes.map((scope) => ctx.t(`admin.tokens.scope.${scope}`)).join(', ');
}

function Expiry({ ctx, token }: { ctx: PageContext; token: AdminTokenView }) {
  if (!token.expiresAt) return <>{ctx.t('admin.tokens.neverExpires')}</>;
  const expired = new Date(token.expiresAt).getTime() <= ctx.now.getTime();
  return (
    <>
      <time dateTime={token.expiresAt}>{ctx.date(new Date(token.expiresAt))}</time>
      {expired ? (
        <>
          {' '}
          <span class="ds-tag" data-color="warning">
            {ctx.t('admin.tokens.expired')}
          </span>
        </>
      ) : null}
    </>
  );
}

export interface AdminTokensPageProps {
  ctx: PageContext;
  tokens: readonly AdminTokenView[];
  /** The person whose tokens alone are listed. */
  owner?: { userId: string; displayName: string } | undefined;
  nextCursor: string | null;
  onLaterPage: boolean;
  notice?: Notice | undefined;
}

export function AdminTokensPage(props: AdminTokensPageProps) {
  const { ctx, owner } = props;
  const t = ctx.t;
  const title = owner ? t('admin.user.tokens', { name: owner.displayName }) : t('admin.tokens.title');
  return (
    <AdminFrame ctx={ctx} title={title} section="tokens" lead={t('admin.tokens.lead')} notice={props.notice}>
      {owner ? (
        <p class="ds-paragraph">
          <a class="ds-link" href={WEB_PATHS.adminTokens}>
            {t('admin.tokens.all')}
          </a>
        </p>
      ) : null}
      {props.tokens.length === 0 ? (
        <p class="ds-paragraph">{t('admin.tokens.none')}</p>
      ) : (
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{t('admin.tokens.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.col.name')}</th>
                <th scope="col">{t('admin.col.owner')}</th>
                <th scope="col">{t('admin.col.prefix')}</th>
                <th scope="col">{t('admin.col.scopes')}</th>
                <th scope="col">{t('admin.col.created')}</th>
                <th scope="col">{t('admin.col.lastUsed')}</th>
                <th scope="col">{t('admin.col.expires')}</th>
                <th scope="col">{t('admin.col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {props.tokens.map((token) => (
                <tr key={token.id} data-token={token.id}>
                  <th scope="row" class="mk-admin-wrap">
                    {token.name}
                  </th>
                  <td>
                    <PersonLink userId={token.owner.userId} name={token.owner.displayName} />
                  </td>
                  <td>
                    <code class="mk-admin-code">{token.prefix}…</code>
                  </td>
                  <td>{scopeList(ctx, token.scopes)}</td>
                  <td>
                    <time dateTime={token.createdAt}>{ctx.date(new Date(token.createdAt))}</time>
                  </td>
                  <td>
                    <TimeOrNever ctx={ctx} value={token.lastUsedAt} never="admin.never" />
                  </td>
                  <td>
                    <Expiry ctx={ctx} token={token} />
                  </td>
                  <td>
                    <a class="ds-link" href={WEB_PATHS.adminTokenRevocation(token.id)}>
                      {t('admin.tokens.revoke', { name: token.name })}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <KeysetPagination
        ctx={ctx}
        nextCursor={props.nextCursor}
        onLaterPage={props.onLaterPage}
        hrefFor={(cursor) => withQuery(WEB_PATHS.adminTokens, { user: owner?.userId, cursor })}
      />
    </AdminFrame>
  );
}

/** The confirmation step: which token, whose, and that revoking cannot be undone. */
export function RevokeTokenPage({ ctx, token }: { ctx: PageContext; token: AdminTokenView }) {
  const t = ctx.t;
  return (
    <AdminFrame ctx={ctx} title={t('admin.revoke.title', { name: token.name })} section="tokens">
      <Facts
        items={[
          {
            term: t('admin.col.owner'),
            value: <PersonLink userId={token.owner.userId} name={token.owner.displayName} />,
          },
          { term: t('admin.col.prefix'), value: <code class="mk-admin-code">{token.prefix}…</code> },
          { term: t('admin.col.scopes'), value: scopeList(ctx, token.scopes) },
          {
            term: t('admin.col.lastUsed'),
            value: <TimeOrNever ctx={ctx} value={token.lastUsedAt} never="admin.never" />,
          },
          { term: t('admin.col.expires'), value: <Expiry ctx={ctx} token={token} /> },
        ]}
      />
      <p class="ds-paragraph">{t('admin.revoke.help')}</p>
      <p class="ds-paragraph">
        <strong>{t('publisher.retract.cannotUndo')}</strong>
      </p>
      <form method="post" action={WEB_PATHS.adminTokenRevocation(token.id)} class="mk-inline">
        <CsrfField ctx={ctx} />
        <Button data-color="danger">{t('admin.revoke.confirm')}</Button>
        <a class="ds-link" href={WEB_PATHS.adminTokens}>
          {t('admin.revoke.cancel')}
        </a>
      </form>
    </AdminFrame>
  );
}
