/**
 * Application errors. Domain and service code throws `AppError(code, message, details?)`; the HTTP error handler
 * (src/http/plugins/errors.ts) maps the code to a status through ERROR_STATUS — the one table of codes.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  forbidden: 403,
  /** A cookie-authenticated state change without a valid CSRF token or from a foreign origin. */
  csrf_failed: 403,
  /**
   * Web push is not configured on this server (no VAPID keys). Before not_found: the status → code table in
   * src/http/plugins/errors.ts keeps the LAST code of a status, and a plain 404 must stay not_found.
   */
  push_disabled: 404,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** An Idempotency-Key sent again with a different request (src/services/idempotency.ts). */
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export const notFound = (what: string) => new AppError('not_found', `${what} was not found`);
