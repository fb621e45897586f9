/**
 * isDatabaseUnavailable (src/db/prisma-errors.ts): a database that went away is "unavailable" (the API answers 503
 * service_unavailable), also when the pg driver adapter reports it under a generic code with the driver's error in
 * `meta.driverAdapterError` — the shapes below are the ones tests/e2e/faults/postgres-outage.test.ts met.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/prisma-errors.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { classifyError } from '../../src/http/plugins/errors.js';

function known(code: string, cause?: Record<string, unknown>) {
  return new Prisma.PrismaClientKnownRequestError('failed', {
    code,
    clientVersion: '7',
    ...(cause ? { meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } } : {}),
  });
}

const postgres = (code: string, severity: string, message = 'x') => ({
  originalCode: code,
  originalMessage: message,
  kind: 'postgres',
  code,
  severity,
  message,
});

describe('isDatabaseUnavailable', () => {
  it('recognises a database that is away, under whatever Prisma code it arrives', () => {
    // pg_terminate_backend: the session is ended mid-query.
    expect(isDatabaseUnavailable(known('P2010', postgres('57P01', 'FATAL')))).toBe(true);
    // ALTER DATABASE … ALLOW_CONNECTIONS false: new sessions are refused.
    expect(isDatabaseUnavailable(known('P2039', postgres('55000', 'FATAL', 'is not currently accepting')))).toBe(true);
    expect(isDatabaseUnavailable(known('P2010', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 1 }))).toBe(
      true,
    );
    expect(isDatabaseUnavailable(known('P2010', { kind: 'ConnectionClosed' }))).toBe(true);
    expect(isDatabaseUnavailable(known('P2010', { kind: 'TooManyConnections', cause: 'x' }))).toBe(true);
    expect(isDatabaseUnavailable(known('P2010', postgres('08006', 'ERROR')))).toBe(true);
    expect(isDatabaseUnavailable(known('P1001'))).toBe(true);
  });

  it('recognises it also in a pg error from the pool the hand-written reads use', () => {
    const refused = new pg.DatabaseError('database "x" is not currently accepting connections', 0, 'error');
    Object.assign(refused, { code: '55000', severity: 'FATAL' });
    expect(isDatabaseUnavailable(refused)).toBe(true);
    const syntax = new pg.DatabaseError('syntax error', 0, 'error');
    Object.assign(syntax, { code: '42601', severity: 'ERROR' });
    expect(isDatabaseUnavailable(syntax)).toBe(false);
    expect(classifyError(refused)).toMatchObject({ code: 'service_unavailable' });
  });

  it('leaves errors of the request itself alone', () => {
    expect(isDatabaseUnavailable(known('P2002'))).toBe(false);
    expect(isDatabaseUnavailable(known('P2010', postgres('42601', 'ERROR', 'syntax error')))).toBe(false);
    expect(isDatabaseUnavailable(known('P2010', { kind: 'UniqueConstraintViolation' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });

  it('makes the API answer 503 service_unavailable for them', () => {
    expect(classifyError(known('P2039', postgres('55000', 'FATAL')))).toMatchObject({ code: 'service_unavailable' });
    expect(classifyError(known('P2010', postgres('42601', 'ERROR')))).toMatchObject({ code: 'internal_error' });
  });
});
