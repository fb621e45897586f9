/**
 * What the administrators' page routes share: their route options (policy `admin`: anyone else gets the 403 page
 * the API would give, an anonymous GET is sent to sign in and back), the signed-in viewer they need, the notice of a
 * POST's 303 (`?done=`), and putting a request schema's problems on a form's fields.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { PageContext } from '../../../../web/context.js';
import type { MessageKey } from '../../../../web/i18n/catalogue.js';
import type { Notice } from '../../../../web/pages/admin/shared.js';
import { POLICY } from '../../../policy.js';
import { doneParam, withDone } from '../page-input.js';
import { type FormProblems, type SchemaProblem, schemaMessage } from '../publisher/editor-form.js';
import { requireViewer } from '../publisher/page-helpers.js';

/** Every admin page's route options. */
export const ADMIN_ROUTE = { config: { policy: POLICY.admin, page: true as const }, schema: { hide: true } };

/** The page's context, for a signed-in administrator (an admin's bearer token does not sign in a page). */
export async function adminPageContext(app: FastifyInstance, request: FastifyRequest): Promise<PageContext> {
  const ctx = await app.pageContext(request);
  requireViewer(ctx);
  return ctx;
}

/** What a POST on the admin pages can have done, each with the words its notice says. */
const DONE: Record<string, MessageKey> = {
  channelCreated: 'admin.done.channelCreated',
  channelDeleted: 'admin.done.channelDeleted',
  ownerAdded: 'admin.done.ownerAdded',
  roleRemoved: 'admin.done.roleRemoved',
  organisationAdded: 'admin.done.organisationAdded',
  organisationChanged: 'admin.done.organisationChanged',
  roleGranted: 'admin.done.roleGranted',
  adminGranted: 'admin.done.adminGranted',
  adminRevoked: 'admin.done.adminRevoked',
  tokenRevoked: 'admin.done.tokenRevoked',
};
export type AdminDone = keyof typeof DONE;
const OUTCOMES = Object.keys(DONE);

/** The notice of `?done=` after a redirect (a known outcome only: the page never echoes the query). */
export function adminNotice(ctx: PageContext, request: FastifyRequest): Notice | undefined {
  const done = doneParam(request, OUTCOMES);
  return done ? { color: 'success', text: ctx.t(DONE[done]!) } : undefined;
}

/** The 303 after a successful POST, to a GET page that says what happened. */
export function redirectDone(reply: FastifyReply, path: string, done: AdminDone) {
  return reply.header('cache-control', 'no-store').redirect(withDone(path, done), 303);
}

/**
 * Checks a form's input with the API's request schema for it, in this request's validator (the `x-text` rules;
 * text NFC-normalised in place as the API does), and puts each problem on the form field it is about: `fields`
 * maps a schema property to its field and, optionally, the words of a problem with it (otherwise the schema
 * rule's own: too long, blank, characters, a choice).
 */
export function checkForm(
  request: FastifyRequest,
  schema: TSchema,
  input: Record<string, unknown>,
  fields: Record<string, { field: string; key?: MessageKey }>,
  problems: FormProblems,
): void {
  const validate = request.compileValidationSchema(schema, 'body');
  if (validate(input)) return;
  for (const problem of (validate.errors ?? []) as SchemaProblem[]) {
    const property = (problem.instancePath.split('/')[1] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
    const target = fields[property] ?? fields[''];
    if (!target) continue;
    const own = schemaMessage(problem);
    // A pattern says nothing a person can act on; the field's own words do.
    if (target.key && (problem.keyword === 'pattern' || own.key === 'publisher.error.choice')) {
      problems.add(target.field, target.key);
    } else {
      problems.add(target.field, own.key, own.params);
    }
  }
}
