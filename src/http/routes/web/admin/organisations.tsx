/**
 * The member organisations and their realms (src/web/pages/admin/organisations.tsx), thin over
 * src/services/organisations.ts, with the API's request schemas:
 *
 * - `GET /admin/organisations` — the list and the form that adds one; `POST` adds it;
 * - `GET|POST /admin/organisations/:code` — change its name or realm.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError, notFound } from '../../../../domain/errors.js';
import {
  createOrganisation,
  listOrganisations,
  normaliseOrganisationCode,
  normaliseRealm,
  updateOrganisation,
} from '../../../../services/organisations.js';
import type { PageContext } from '../../../../web/context.js';
import type { MessageKey } from '../../../../web/i18n/catalogue.js';
import {
  AdminOrganisationPage,
  AdminOrganisationsPage,
  type OrganisationValues,
} from '../../../../web/pages/admin/organisations.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { callerOf } from '../../../caller.js';
import { formString } from '../../../form-body.js';
import { CreateOrganisationBody, UpdateOrganisationBody } from '../../../schemas/organisations.js';
import type { WebRouteOptions } from '../index.js';
import { errorField } from '../page-input.js';
import { FormProblems } from '../publisher/editor-form.js';
import { ADMIN_ROUTE, adminNotice, adminPageContext, checkForm, redirectDone } from './helpers.js';

const FIELDS: Record<string, { field: string; key: MessageKey }> = {
  code: { field: 'code', key: 'admin.error.code' },
  name: { field: 'name', key: 'admin.error.organisationName' },
  realm: { field: 'realm', key: 'admin.error.realm' },
};

/** The organisation's `:code` (as the API's parameter: anything longer is no organisation). */
function codeOf(request: FastifyRequest): string {
  const code = (request.params as { code?: unknown }).code;
  if (typeof code !== 'string' || code.length === 0 || code.length > 32) throw notFound('Organisation');
  return code;
}

/**
 * The service's own rules for code and realm (a pattern the request schema leaves to it), checked before the
 * service is asked, so the form shows every problem at once.
 */
function checkRules(input: { code?: string; realm?: string }, problems: FormProblems): void {
  const rules: [keyof typeof input, (raw: string) => string][] = [
    ['code', normaliseOrganisationCode],
    ['realm', normaliseRealm],
  ];
  for (const [field, rule] of rules) {
    const value = input[field];
    if (value === undefined) continue;
    try {
      rule(value);
    } catch {
      problems.add(field, FIELDS[field]!.key);
    }
  }
}

/** A service's refusal on the field it is about: a clash (409) names code or realm in its message. */
function serviceProblem(error: unknown, problems: FormProblems): void {
  if (!isAppError(error)) throw error;
  if (error.code === 'conflict') {
    if (/realm/i.test((error as AppError).message)) problems.add('realm', 'admin.error.realmTaken');
    else problems.add('code', 'admin.error.codeTaken');
    return;
  }
  const field = errorField(error);
  const target = field ? FIELDS[field] : undefined;
  if (!target) throw error;
  problems.add(target.field, target.key);
}

export async function adminOrganisationPages(app: FastifyInstance, { db }: WebRouteOptions): Promise<void> {
  async function renderList(
    reply: FastifyReply,
    ctx: PageContext,
    request: FastifyRequest,
    extra: { values?: OrganisationValues; errors?: Record<string, string> } = {},
    status = 200,
  ) {
    const organisations = await listOrganisations({ db });
    return sendPage(
      reply,
      ctx,
      <AdminOrganisationsPage
        ctx={ctx}
        organisations={organisations}
        values={extra.values ?? { code: '', name: '', realm: '' }}
        errors={extra.errors}
        notice={adminNotice(ctx, request)}
      />,
      { status },
    );
  }

  app.get(WEB_PATHS.adminOrganisations, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    return renderList(reply, ctx, request);
  });

  app.post(WEB_PATHS.adminOrganisations, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const values: OrganisationValues = {
      code: (formString(request.body, 'code') ?? '').trim(),
      name: formString(request.body, 'name') ?? '',
      realm: (formString(request.body, 'realm') ?? '').trim(),
    };
    const input = { ...values };
    const problems = new FormProblems(ctx.t);
    checkForm(request, CreateOrganisationBody, input, FIELDS, problems);
    checkRules(input, problems);
    if (problems.empty) {
      try {
        await createOrganisation({ db }, callerOf(request), input);
        return redirectDone(reply, WEB_PATHS.adminOrganisations, 'organisationAdded');
      } catch (error) {
        serviceProblem(error, problems);
      }
    }
    return renderList(reply, ctx, request, { values, errors: problems.fieldErrors }, 400);
  });

  app.get('/admin/organisations/:code', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const code = codeOf(request);
    const organisation = (await listOrganisations({ db })).find((o) => o.code.toLowerCase() === code.toLowerCase());
    if (!organisation) throw notFound('Organisation');
    return sendPage(reply, ctx, <AdminOrganisationPage ctx={ctx} code={organisation.code} values={organisation} />);
  });

  app.post('/admin/organisations/:code', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const code = codeOf(request);
    const values = {
      name: formString(request.body, 'name') ?? '',
      realm: (formString(request.body, 'realm') ?? '').trim(),
    };
    const input = { ...values };
    const problems = new FormProblems(ctx.t);
    checkForm(request, UpdateOrganisationBody, input, FIELDS, problems);
    checkRules({ realm: input.realm }, problems);
    if (problems.empty) {
      try {
        await updateOrganisation({ db }, callerOf(request), code, input);
        return redirectDone(reply, WEB_PATHS.adminOrganisations, 'organisationChanged');
      } catch (error) {
        serviceProblem(error, problems);
      }
    }
    return sendPage(
      reply,
      ctx,
      <AdminOrganisationPage ctx={ctx} code={code} values={values} errors={problems.fieldErrors} />,
      { status: 400 },
    );
  });
}
