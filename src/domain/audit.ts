/**
 * The catalogue of audited actions: every privileged action writes one AuditLog record (actor, action, target,
 * outcome, request id, time). Add a name here before using it, so the admin filter can list them all.
 */
export const AUDIT_ACTIONS = [
  'announcement.publish',
  'announcement.draft',
  'announcement.schedule',
  'announcement.unschedule',
  'announcement.edit',
  'announcement.retract',
  'announcement.pin',
  'announcement.unpin',
  'announcement.attach',
  'announcement.detach',
  /** Failed deliveries of an announcement put back to pending by a publisher (src/services/delivery-stats.ts). */
  'announcement.retry_deliveries',
  'channel.create',
  'channel.update',
  'channel.delete',
  'channel.role.grant',
  'channel.role.revoke',
  'organisation.create',
  'organisation.update',
  'token.create',
  'token.revoke',
  'feed_token.create',
  'feed_token.revoke',
  'webhook.change',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate_secret',
  'webhook.test',
  'webhook.disable',
  'subscription.import',
  'email_suppression.lift',
  'session.sign_in',
  'session.sign_out',
  'user.export',
  'user.erase',
  /** An administrator made a user an administrator, or took that away (src/services/users.ts setAdministrator). */
  'user.admin.grant',
  'user.admin.revoke',
  'authorisation.denied',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an audit record can be about (`targetType`): the admin filter lists these. Add a kind here before using it. */
export const AUDIT_TARGET_TYPES = [
  'announcement',
  'channel',
  'feed_token',
  'organisation',
  'route',
  'subscription',
  'token',
  'user',
  'webhook',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

export const AUDIT_OUTCOMES = ['success', 'denied', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
