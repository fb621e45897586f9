/**
 * The editor's form as plain strings, the way the browser sends it back: what the editor page shows (from an
 * announcement, from a submitted form, or empty). Field names are the inputs' names, so an error keyed by one
 * (FieldErrors) lands next to its input. Times are datetime-local values in Norwegian time (src/web/local-time.ts).
 */
import type { AnnouncementType } from '../../../domain/announcement.js';
import type { Importance, Language } from '../../../domain/types.js';

export interface VersionValues {
  title: string;
  summary: string;
  body: string;
}

export interface EditorValues {
  /** The original's language; the other languages' versions are its translations when they have content. */
  language: Language;
  versions: Record<Language, VersionValues>;
  importance: Importance;
  type: AnnouncementType;
  affectedSystem: string;
  startsAt: string;
  endsAt: string;
  /** The incident a follow-up resolves (new announcements only). */
  resolves: string;
  /** Organisation codes; none: everyone. */
  audience: string[];
  publishAt: string;
  expiresAt: string;
  pinned: boolean;
  pinUntil: string;
  ackRequired: boolean;
  ackDeadline: string;
  /** For a published announcement: whether readers must be told (`material`) or it is a `minor` fix. */
  change: '' | 'material' | 'minor';
  note: string;
  /** The revision the form was made from (If-Match semantics). */
  revision: string;
  /** Makes a repeated submission of one new-announcement form publish once (src/services/idempotency.ts). */
  idempotencyKey: string;
  /** Attachments ticked for removal. */
  removeAttachments: string[];
}

/** Form field names of one language version. */
export const versionField = (part: keyof VersionValues, language: Language) => `${part}.${language}`;

export function emptyVersion(): VersionValues {
  return { title: '', summary: '', body: '' };
}
