/**
 * The editor's form and the publishing services' inputs, both ways: a submitted form as EditorValues, those values
 * as PublishInput / EditInput (checked by the API's own request schemas, so a page accepts exactly what the API
 * accepts), an announcement as the values its edit form starts from, and the services' and schemas' complaints as
 * errors on the form's fields, in the reader's language.
 */
import type { FastifyRequest } from 'fastify';
import type { AnnouncementRecord } from '../../../../db/announcement-records.js';
import { ANNOUNCEMENT_TYPES } from '../../../../domain/announcement.js';
import { type AppError, isAppError } from '../../../../domain/errors.js';
import { IMPORTANCES, LANGUAGES, type Language } from '../../../../domain/types.js';
import type { EditInput } from '../../../../services/edit.js';
import type { PublishInput, TranslationInput } from '../../../../services/publish.js';
import type { FieldErrors } from '../../../../web/components/forms.js';
import type { MessageKey } from '../../../../web/i18n/catalogue.js';
import type { Translate } from '../../../../web/i18n/translator.js';
import { localDateTimeValue, parseLocalDateTime } from '../../../../web/local-time.js';
import {
  type EditorValues,
  emptyVersion,
  type VersionValues,
  versionField,
} from '../../../../web/pages/publisher/editor-values.js';
import { type FormBody, formString, formStrings } from '../../../form-body.js';
import { validationProblems } from '../../../plugins/errors.js';
import { EditBody, PublishBody } from '../../../schemas/announcements.js';

/** What a submit button asks for (its `name="action"` value). */
export const EDITOR_ACTIONS = ['publish', 'schedule', 'draft', 'save', 'unschedule', 'preview'] as const;
export type EditorAction = (typeof EDITOR_ACTIONS)[number];

export function editorAction(body: FormBody): EditorAction | undefined {
  const value = formString(body, 'action');
  return (EDITOR_ACTIONS as readonly string[]).includes(value ?? '') ? (value as EditorAction) : undefined;
}

function oneOf<T extends string>(choices: readonly T[], value: string | undefined, fallback: T): T {
  return (choices as readonly string[]).includes(value ?? '') ? (value as T) : fallback;
}

export function emptyEditorValues(language: Language, idempotencyKey: string): EditorValues {
  return {
    language,
    versions: { nb: emptyVersion(), nn: emptyVersion(), en: emptyVersion() },
    importance: 'info',
    type: 'general',
    affectedSystem: '',
    startsAt: '',
    endsAt: '',
    resolves: '',
    audience: [],
    publishAt: '',
    expiresAt: '',
    pinned: false,
    pinUntil: '',
    ackRequired: false,
    ackDeadline: '',
    change: '',
    note: '',
    revision: '',
    idempotencyKey,
    removeAttachments: [],
  };
}

/** The form as sent (missing fields empty; unknown choices fall back to the defaults). */
export function editorValuesFromForm(body: FormBody): EditorValues {
  const text = (name: string) => formString(body, name) ?? '';
  const versions = Object.fromEntries(
    LANGUAGES.map((language) => [
      language,
      {
        title: text(versionField('title', language)),
        summary: text(versionField('summary', language)),
        body: text(versionField('body', language)),
      },
    ]),
  ) as Record<Language, VersionValues>;
  const change = text('change');
  return {
    language: oneOf(LANGUAGES, formString(body, 'language'), 'nb'),
    versions,
    importance: oneOf(IMPORTANCES, formString(body, 'importance'), 'info'),
    type: oneOf(ANNOUNCEMENT_TYPES, formString(body, 'type'), 'general'),
    affectedSystem: text('affectedSystem'),
    startsAt: text('startsAt'),
    endsAt: text('endsAt'),
    resolves: text('resolves'),
    audience: formStrings(body, 'audience'),
    publishAt: text('publishAt'),
    expiresAt: text('expiresAt'),
    pinned: formString(body, 'pinned') === 'on',
    pinUntil: text('pinUntil'),
    ackRequired: formString(body, 'ackRequired') === 'on',
    ackDeadline: text('ackDeadline'),
    change: change === 'material' || change === 'minor' ? change : '',
    note: text('note'),
    revision: text('revision'),
    idempotencyKey: text('idempotencyKey'),
    removeAttachments: formStrings(body, 'removeAttachment'),
  };
}

/** The values an announcement's edit form starts from. */
export function editorValuesFromRecord(record: AnnouncementRecord, now: Date): EditorValues {
  const versions: Record<Language, VersionValues> = { nb: emptyVersion(), nn: emptyVersion(), en: emptyVersion() };
  for (const version of record.versions) {
    versions[version.language] = { title: version.title, summary: version.summary ?? '', body: version.body };
  }
  const pinned = record.pinnedAt !== null && (record.pinnedUntil === null || record.pinnedUntil > now);
  return {
    language: record.versions[0]?.language ?? 'nb',
    versions,
    importance: record.importance,
    type: record.type,
    affectedSystem: record.affectedSystem ?? '',
    startsAt: localDateTimeValue(record.startsAt),
    endsAt: localDateTimeValue(record.endsAt),
    resolves: record.resolvesId ?? '',
    audience: record.audience.map((organisation) => organisation.code),
    publishAt: localDateTimeValue(record.publishAt),
    expiresAt: localDateTimeValue(record.expiresAt),
    pinned,
    pinUntil: pinned ? localDateTimeValue(record.pinnedUntil) : '',
    ackRequired: record.ackRequired,
    ackDeadline: localDateTimeValue(record.ackDeadline),
    change: '',
    note: '',
    revision: String(record.revision),
    idempotencyKey: '',
    removeAttachments: [],
  };
}

const hasContent = (version: VersionValues) => Boolean(version.title.trim() || version.body.trim());

/** The languages of the versions the form holds, the original first: the translations are those with content. */
export function formLanguages(values: EditorValues): Language[] {
  return [
    values.language,
    ...LANGUAGES.filter((language) => language !== values.language && hasContent(values.versions[language])),
  ];
}

/** Problems found in the form, by field name, before or after the services looked at it. */
export class FormProblems {
  readonly errors: Record<string, string> = {};
  constructor(private readonly t: Translate) {}

  add(field: string, key: MessageKey, params?: Record<string, string | number>): void {
    // The first problem of a field is the one to fix first.
    this.errors[field] ??= this.t(key, params);
  }

  get empty(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  get fieldErrors(): FieldErrors {
    return this.errors;
  }
}

const TIME_FIELDS = ['publishAt', 'expiresAt', 'startsAt', 'endsAt', 'ackDeadline', 'pinUntil'] as const;
type TimeField = (typeof TIME_FIELDS)[number];

/** The form's times as ISO instants (absent when empty); an unreadable one is a problem on its field. */
export function formInstants(values: EditorValues, problems: FormProblems): Partial<Record<TimeField, string>> {
  const instants: Partial<Record<TimeField, string>> = {};
  for (const field of TIME_FIELDS) {
    const parsed = parseLocalDateTime(values[field]);
    if (parsed === 'invalid') problems.add(field, 'publisher.error.dateTime');
    else if (parsed) instants[field] = parsed.toISOString();
  }
  return instants;
}

function versionInputs(values: EditorValues): { original: VersionValues; translations: TranslationInput[] } {
  const [originalLanguage, ...others] = formLanguages(values);
  const original = values.versions[originalLanguage!];
  const translations = others.map((language) => {
    const version = values.versions[language];
    return {
      language,
      title: version.title,
      body: version.body,
      ...(version.summary.trim() ? { summary: version.summary } : {}),
    };
  });
  return { original, translations };
}

/** A new announcement's input (the original and its translations, every setting the form has). */
export function publishInputOf(
  values: EditorValues,
  instants: Partial<Record<TimeField, string>>,
  mode: { draft: boolean; publishAt: string | undefined },
): PublishInput {
  const { original, translations } = versionInputs(values);
  return {
    title: original.title,
    body: original.body,
    ...(original.summary.trim() ? { summary: original.summary } : {}),
    language: values.language,
    ...(translations.length > 0 ? { translations } : {}),
    importance: values.importance,
    // A follow-up is an incident; the service says so too, but the schema check below sees the same input.
    type: values.resolves ? 'incident' : values.type,
    ...(values.affectedSystem.trim() ? { affectedSystem: values.affectedSystem } : {}),
    ...(instants.startsAt ? { startsAt: instants.startsAt } : {}),
    ...(instants.endsAt ? { endsAt: instants.endsAt } : {}),
    ...(values.resolves ? { resolves: values.resolves } : {}),
    audience: values.audience,
    ...(instants.expiresAt ? { expiresAt: instants.expiresAt } : {}),
    acknowledgement: {
      required: values.ackRequired,
      ...(instants.ackDeadline ? { deadline: instants.ackDeadline } : {}),
    },
    ...(mode.draft ? { draft: true } : {}),
    ...(mode.publishAt ? { publishAt: mode.publishAt } : {}),
  };
}

/** An edit replacing every field the form shows (absent times clear them). */
export function editInputOf(
  values: EditorValues,
  instants: Partial<Record<TimeField, string>>,
  published: boolean,
): EditInput {
  const { original, translations } = versionInputs(values);
  return {
    title: original.title,
    body: original.body,
    summary: original.summary.trim() ? original.summary : null,
    language: values.language,
    translations,
    importance: values.importance,
    type: values.type,
    affectedSystem: values.affectedSystem.trim() ? values.affectedSystem : null,
    startsAt: instants.startsAt ?? null,
    endsAt: instants.endsAt ?? null,
    audience: values.audience,
    expiresAt: instants.expiresAt ?? null,
    acknowledgement: { required: values.ackRequired, deadline: instants.ackDeadline ?? null },
    ...(published && values.change ? { material: values.change === 'material' } : {}),
    ...(values.note.trim() ? { note: values.note } : {}),
    ...(/^\d{1,9}$/.test(values.revision) ? { revision: Number(values.revision) } : {}),
  };
}

const sameTime = (a: Date | null, b: string | null | undefined) =>
  (a?.getTime() ?? null) === (b ? Date.parse(b) : null);

/**
 * Whether the edit changes what readers read or how the announcement behaves (not pins or attachments, which have
 * their own services): only such an edit makes a revision, and for a published one needs material or minor.
 */
export function editChangesContent(record: AnnouncementRecord, input: EditInput): boolean {
  const current = record.versions.map((v) => `${v.language}\n${v.title}\n${v.summary ?? ''}\n${v.body}`).join('\n\n');
  const wanted = [
    { language: input.language, title: input.title, summary: input.summary, body: input.body },
    ...(input.translations ?? []),
  ].map((v) => `${v.language}\n${v.title?.trim()}\n${v.summary?.trim() ?? ''}\n${v.body?.trim()}`);
  // The record keeps translations in LANGUAGES order after the original; so does formLanguages.
  if (current !== wanted.join('\n\n')) return true;
  const audience = (codes: readonly string[]) =>
    [...new Set(codes.map((code) => code.trim().toLowerCase()))].sort().join(',');
  return (
    input.importance !== record.importance ||
    input.type !== record.type ||
    (input.affectedSystem?.trim() || null) !== record.affectedSystem ||
    !sameTime(record.startsAt, input.startsAt) ||
    !sameTime(record.endsAt, input.endsAt) ||
    !sameTime(record.expiresAt, input.expiresAt) ||
    audience(input.audience ?? []) !== audience(record.audience.map((o) => o.code)) ||
    input.acknowledgement?.required !== record.ackRequired ||
    !sameTime(record.ackDeadline, input.acknowledgement?.deadline)
  );
}

/** Service fields (as AppError details and schema paths name them) → the form's fields. */
function formFieldOf(serviceField: string, values: EditorValues): string {
  const field = serviceField.replace(/^body\./, '').replace(/\[(\d+)\]/g, '.$1');
  const languages = formLanguages(values);
  const translation = /^translations\.(\d+)\.(title|summary|body)$/.exec(field);
  if (translation) {
    const language = languages[Number(translation[1]) + 1];
    return language ? versionField(translation[2] as keyof VersionValues, language) : '';
  }
  if (field === 'title' || field === 'summary' || field === 'body') {
    return versionField(field, values.language);
  }
  if (field === 'translations' || field === 'language') return 'language';
  if (field === 'acknowledgement.deadline') return 'ackDeadline';
  if (field.startsWith('acknowledgement')) return 'ackRequired';
  if (field === 'until') return 'pinUntil';
  if (field === 'material') return 'change';
  if (field === 'revision' || field === 'If-Match') return '';
  const known = [
    'importance',
    'type',
    'affectedSystem',
    'startsAt',
    'endsAt',
    'resolves',
    'audience',
    'publishAt',
    'expiresAt',
    'note',
  ];
  return known.includes(field) ? field : '';
}

/** What a rule the services check means, said for the form's field. */
const RULE_MESSAGES: Record<string, MessageKey> = {
  affectedSystem: 'publisher.error.affectedSystem',
  startsAt: 'publisher.error.startsAt',
  endsAt: 'publisher.error.endsAt',
  expiresAt: 'publisher.error.expiresAt',
  publishAt: 'publisher.error.publishAtPast',
  ackDeadline: 'publisher.error.ackDeadline',
  ackRequired: 'publisher.error.ackDeadline',
  language: 'publisher.error.languages',
  resolves: 'publisher.error.resolves',
  audience: 'publisher.error.audience',
  change: 'publisher.error.change',
  pinUntil: 'publisher.error.pinUntil',
  importance: 'publisher.error.choice',
  type: 'publisher.error.choice',
};

/** Ajv's error objects (as compiled request validators report them). */
export interface SchemaProblem {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** A schema problem in the reader's words (lengths, blanks, characters, choices); the admin forms use it too. */
export function schemaMessage(problem: SchemaProblem): { key: MessageKey; params?: Record<string, string | number> } {
  const message = problem.message ?? '';
  if (problem.keyword === 'maxLength')
    return { key: 'publisher.error.tooLong', params: { max: Number(problem.params.limit) } };
  if (problem.keyword === 'minLength' || message === 'must not be blank') return { key: 'publisher.error.required' };
  const tooLong = /more than (\d+) characters/.exec(message);
  if (tooLong) return { key: 'publisher.error.tooLong', params: { max: Number(tooLong[1]) } };
  const character = /(U\+[0-9A-F]{4,6})/.exec(message);
  if (problem.keyword === 'x-text') {
    if (/single line/.test(message)) return { key: 'publisher.error.lineBreak' };
    return { key: 'publisher.error.characters', params: { character: character?.[1] ?? '' } };
  }
  if (problem.keyword === 'format') return { key: 'publisher.error.dateTime' };
  return { key: 'publisher.error.choice' };
}

/**
 * Checks an input with the API's request schema for it (PublishBody or EditBody: lengths, characters, choices), in
 * this request's validator (the app's, with the `x-text` rules; text is NFC-normalised in place as the API does).
 */
export function checkWithSchema(
  request: FastifyRequest,
  schema: typeof PublishBody | typeof EditBody,
  input: PublishInput | EditInput,
  values: EditorValues,
  problems: FormProblems,
): void {
  const validate = request.compileValidationSchema(schema, 'body');
  if (validate(input)) return;
  const raw = (validate.errors ?? []) as SchemaProblem[];
  for (const problem of raw) {
    const [described] = validationProblems([problem], 'body');
    const field = formFieldOf(described?.field ?? '', values);
    const { key, params } = schemaMessage(problem);
    problems.add(field, key, params);
  }
}

export { EditBody, PublishBody };

/** The fields an AppError's details name: `{ field }`, or a list of `{ field, message }`. */
function fieldsOf(error: AppError): string[] {
  const details = error.details;
  if (Array.isArray(details)) {
    return details
      .map((entry) => (entry && typeof entry === 'object' ? (entry as { field?: unknown }).field : undefined))
      .filter((field): field is string => typeof field === 'string');
  }
  if (details && typeof details === 'object' && typeof (details as { field?: unknown }).field === 'string') {
    return [(details as { field: string }).field];
  }
  return [];
}

/**
 * Puts a service's refusal on the form: validation problems on the fields they name (with the rule's message in the
 * reader's language), anything else on `fallbackField` (the part of the form the failed step was about). Errors that
 * are not about the form (not found, forbidden, unavailable) are rethrown for the error pages.
 */
export function addServiceError(
  error: unknown,
  values: EditorValues,
  problems: FormProblems,
  fallback: { field: string; key: MessageKey; params?: Record<string, string | number> },
): void {
  if (!isAppError(error)) throw error;
  if (error.code === 'validation_failed') {
    const fields = fieldsOf(error).map((field) => formFieldOf(field, values));
    if (fields.length === 0) fields.push(fallback.field);
    for (const field of fields) {
      const key = RULE_MESSAGES[field] ?? (field.includes('.') ? 'publisher.error.required' : fallback.key);
      problems.add(field, key, key === fallback.key ? fallback.params : undefined);
    }
    return;
  }
  if (error.code === 'idempotency_key_reused') {
    // The form was submitted before (back button), then changed: it published once already.
    problems.add('', 'publisher.error.formUsed');
    return;
  }
  if (error.code === 'conflict' || error.code === 'unsupported_media_type' || error.code === 'payload_too_large') {
    problems.add(fallback.field, fallback.key, fallback.params);
    return;
  }
  throw error;
}
