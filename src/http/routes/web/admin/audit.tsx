/**
 * `GET /admin/audit` — the audit log for administrators (src/web/pages/admin/audit.tsx) over
 * src/services/audit.ts listAuditLog, the API's query: filters by who (an e-mail address or Feide id is looked up,
 * a user id taken as it is), action, target (a channel also by its slug), outcome and a time window in Norwegian
 * time; keyset pages. Invalid filters answer 400 with the form's error summary and no records.
 */
import type { FastifyInstance } from 'fastify';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  AUDIT_TARGET_TYPES,
  type AuditAction,
  type AuditOutcome,
} from '../../../../domain/audit.js';
import { isAppError } from '../../../../domain/errors.js';
import { type AuditRecordView, listAuditLog } from '../../../../services/audit.js';
import { getChannel } from '../../../../services/channels.js';
import { findPersonByAddress } from '../../../../services/publishing.js';
import { displayNamesOf } from '../../../../services/users.js';
import { parseLocalDateTime } from '../../../../web/local-time.js';
import { AdminAuditPage, type AuditFilters } from '../../../../web/pages/admin/audit.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { AuditQuery } from '../../../schemas/audit.js';
import type { WebRouteOptions } from '../index.js';
import { queryParam } from '../page-input.js';
import { FormProblems } from '../publisher/editor-form.js';
import { ADMIN_ROUTE, adminPageContext, checkForm } from './helpers.js';

/** Records per page. */
export const ADMIN_AUDIT_PAGE_SIZE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The people a page of records names by id: actors, targets that are people, and `userId`s in details. */
function peopleNamed(records: readonly AuditRecordView[]): string[] {
  const ids: string[] = [];
  for (const record of records) {
    if (record.actorUserId) ids.push(record.actorUserId);
    if (record.targetType === 'user' && record.targetId && UUID.test(record.targetId)) ids.push(record.targetId);
    const details = record.details;
    if (details && typeof details === 'object' && !Array.isArray(details)) {
      for (const key of ['userId', 'ownerUserId']) {
        const value = (details as Record<string, unknown>)[key];
        if (typeof value === 'string' && UUID.test(value)) ids.push(value);
      }
    }
  }
  return ids;
}

export async function adminAuditPage(app: FastifyInstance, { db }: WebRouteOptions): Promise<void> {
  app.get(WEB_PATHS.adminAudit, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const filters: AuditFilters = {
      actor: queryParam(request, 'actor')?.trim() ?? '',
      action: queryParam(request, 'action') ?? '',
      targetType: queryParam(request, 'targetType') ?? '',
      target: queryParam(request, 'target')?.trim() ?? '',
      outcome: queryParam(request, 'outcome') ?? '',
      from: queryParam(request, 'from') ?? '',
      to: queryParam(request, 'to') ?? '',
    };
    // Checked in the form's order, so the error summary lists the problems as the form shows the fields.
    const problems = new FormProblems(ctx.t);
    const choose = (field: keyof AuditFilters, choices: readonly string[]) => {
      if (filters[field] && !choices.includes(filters[field])) problems.add(field, 'publisher.error.choice');
    };
    let actorUserId: string | undefined;
    if (filters.actor && UUID.test(filters.actor)) {
      actorUserId = filters.actor.toLowerCase();
    } else if (filters.actor) {
      try {
        actorUserId = (await findPersonByAddress(db, filters.actor)).id;
      } catch (error) {
        if (!isAppError(error)) throw error;
        problems.add(
          'actor',
          error.code === 'not_found'
            ? 'admin.error.actorUnknown'
            : error.code === 'conflict'
              ? 'publisher.error.personAmbiguous'
              : 'admin.error.actor',
        );
      }
    }

    choose('action', AUDIT_ACTIONS);
    choose('outcome', AUDIT_OUTCOMES);
    choose('targetType', AUDIT_TARGET_TYPES);
    let targetId = filters.target || undefined;
    if (targetId && filters.targetType === 'channel' && !UUID.test(targetId)) {
      // Records name channels by id; administrators know them by slug.
      try {
        targetId = (await getChannel({ db }, ctx.actor, targetId)).id;
      } catch (error) {
        if (!isAppError(error) || error.code !== 'not_found') throw error;
        problems.add('target', 'admin.error.channelUnknown');
      }
    } else if (targetId && UUID.test(targetId)) {
      targetId = targetId.toLowerCase();
    }
    checkForm(
      request,
      AuditQuery,
      { ...(targetId ? { targetId } : {}), limit: ADMIN_AUDIT_PAGE_SIZE },
      { targetId: { field: 'target' } },
      problems,
    );
    const from = parseLocalDateTime(filters.from);
    const to = parseLocalDateTime(filters.to);
    if (from === 'invalid') problems.add('from', 'publisher.error.dateTime');
    if (to === 'invalid') problems.add('to', 'publisher.error.dateTime');
    if (from instanceof Date && to instanceof Date && from.getTime() >= to.getTime()) {
      problems.add('from', 'admin.error.window');
    }

    const cursor = queryParam(request, 'cursor');
    let page: Awaited<ReturnType<typeof listAuditLog>> = { items: [], nextCursor: null };
    if (problems.empty) {
      try {
        page = await listAuditLog({ db }, ctx.actor, {
          limit: ADMIN_AUDIT_PAGE_SIZE,
          ...(filters.action ? { action: filters.action as AuditAction } : {}),
          ...(filters.outcome ? { outcome: filters.outcome as AuditOutcome } : {}),
          ...(filters.targetType ? { targetType: filters.targetType } : {}),
          ...(targetId ? { targetId } : {}),
          ...(actorUserId ? { actorUserId } : {}),
          ...(from instanceof Date ? { from } : {}),
          ...(to instanceof Date ? { to } : {}),
          ...(cursor ? { cursor } : {}),
        });
      } catch (error) {
        // A next-page link from before a change of filters, or edited by hand.
        if (!isAppError(error) || error.code !== 'invalid_cursor') throw error;
        problems.add('', 'admin.error.cursor');
      }
    }
    const names = await displayNamesOf(db, peopleNamed(page.items));
    const invalid = !problems.empty;
    return sendPage(
      reply,
      ctx,
      <AdminAuditPage
        ctx={ctx}
        filters={filters}
        records={page.items}
        names={names}
        nextCursor={page.nextCursor}
        onLaterPage={cursor !== undefined && !invalid}
        errors={invalid ? problems.fieldErrors : undefined}
      />,
      { status: invalid ? 400 : 200 },
    );
  });
}
