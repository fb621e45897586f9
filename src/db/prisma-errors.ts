/** Recognising Prisma's errors, so that Prisma's error types stop in the data layer. */
import pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

/**
 * A unique constraint was violated: P2002 from Prisma's model queries; SQLSTATE 23505 from a statement run on the pg
 * pool (queryRows) or, wrapped by the driver adapter, through `$queryRaw` (P2010 with the driver's error as cause).
 * The caller turns it into AppError('conflict').
 */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return error.code === '23505';
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (error.code === 'P2002') return true;
  const cause = (error.meta as { driverAdapterError?: { cause?: Record<string, unknown> } } | undefined)
    ?.driverAdapterError?.cause;
  return cause?.kind === 'UniqueConstraintViolation' || (cause?.kind === 'postgres' && cause.code === '23505');
}

/** The record an update or delete needed was not there (P2025), e.g. deleted concurrently. */
export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}

/**
 * Codes meaning "the database cannot be reached or is overloaded", answered with 503 rather than 500: P1001 cannot
 * reach, P1002 timed out, P1008 operation timed out, P1017 connection closed, P2024 no pool connection in time.
 */
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/**
 * Through the pg driver adapter a lost database often arrives under a generic code (P2010 for raw queries, P2039…)
 * with the driver's error in `meta.driverAdapterError.cause` (@prisma/adapter-pg convertDriverError): these kinds of
 * it, and these PostgreSQL errors, mean the database is away rather than the request wrong.
 */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/**
 * SQLSTATE class 08 (connection exception), 57P01–57P03 (administrator or crash shutdown, cannot connect now), 53300
 * (too many connections); and any FATAL or PANIC, which ends the session — e.g. 55000 "database is not currently
 * accepting connections" or 57P01 from pg_terminate_backend.
 */
function isUnavailablePostgresError(cause: { code?: unknown; severity?: unknown }): boolean {
  const code = typeof cause.code === 'string' ? cause.code : '';
  return (
    code.startsWith('08') ||
    ['57P01', '57P02', '57P03', '53300'].includes(code) ||
    cause.severity === 'FATAL' ||
    cause.severity === 'PANIC'
  );
}

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  // The hand-written reads of src/db/prisma.ts (queryRows) go to the pg pool directly: its errors arrive as they are.
  if (error instanceof pg.DatabaseError) return isUnavailablePostgresError(error);
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (UNAVAILABLE_CODES.has(error.code)) return true;
  const driverError = (error.meta as { driverAdapterError?: { cause?: Record<string, unknown> } } | undefined)
    ?.driverAdapterError?.cause;
  if (!driverError) return false;
  if (typeof driverError.kind === 'string' && UNAVAILABLE_KINDS.has(driverError.kind)) return true;
  return driverError.kind === 'postgres' && isUnavailablePostgresError(driverError);
}
