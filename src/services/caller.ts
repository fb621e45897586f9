/** Who is asking a use case to act, as services need it for rules and audit records. */
import type { Actor } from '../domain/types.js';

export interface Caller {
  actor: Actor;
  /** How the actor proved who they are; some rules differ (only a session, or an admin token, mints tokens). */
  credential: 'anonymous' | 'session' | 'token';
  /** The request to quote in audit records. */
  requestId?: string;
}
