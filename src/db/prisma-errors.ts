/** Recognising Prisma's errors, so that Prisma's error types stop in the data layer. */
import { Prisma } from '../generated/prisma/client.js';

/** A unique constraint was violated (P2002): the caller turns it into AppError('conflict'). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
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

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  return error instanceof Prisma.PrismaClientKnownRequestError && UNAVAILABLE_CODES.has(error.code);
}
