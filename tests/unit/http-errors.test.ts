import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { bearerToken } from '../../src/http/plugins/auth.js';
import { classifyError, isBackingServiceUnavailable, validationProblems } from '../../src/http/plugins/errors.js';

describe('classifyError', () => {
  it('keeps an AppError’s code, message and details', () => {
    expect(classifyError(new AppError('forbidden', 'No', { why: 1 }))).toEqual({
      code: 'forbidden',
      message: 'No',
      details: { why: 1 },
    });
  });

  it('hides the message of anything unexpected', () => {
    const classified = classifyError(new TypeError('cannot read properties of undefined (reading "password")'));
    expect(classified).toEqual({ code: 'internal_error', message: expect.any(String), unexpected: true });
    expect(classified.message).not.toMatch(/password/);
  });

  it('maps Fastify’s body errors', () => {
    const fastifyError = (code: string, statusCode: number) => Object.assign(new Error('x'), { code, statusCode });
    expect(classifyError(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413)).code).toBe('payload_too_large');
    expect(classifyError(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).code).toBe('unsupported_media_type');
    expect(classifyError(fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400)).code).toBe('validation_failed');
    expect(classifyError(fastifyError('FST_ERR_SOMETHING', 404)).code).toBe('not_found');
    expect(classifyError(fastifyError('FST_ERR_SOMETHING', 500)).code).toBe('internal_error');
  });

  it('recognises PostgreSQL and Redis being unreachable as 503', () => {
    const unavailable = [
      Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('wrapped', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
      new Prisma.PrismaClientKnownRequestError('cannot reach', { code: 'P1001', clientVersion: '7' }),
      new Prisma.PrismaClientKnownRequestError('pool timeout', { code: 'P2024', clientVersion: '7' }),
    ];
    for (const error of unavailable) {
      expect(isBackingServiceUnavailable(error), error.message).toBe(true);
      expect(classifyError(error).code).toBe('service_unavailable');
    }
    const other = new Prisma.PrismaClientKnownRequestError('unique', { code: 'P2002', clientVersion: '7' });
    expect(isBackingServiceUnavailable(other)).toBe(false);
  });
});

describe('validationProblems', () => {
  it('names each field by its path and says what is wrong', () => {
    const problems = validationProblems(
      [
        { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'colour' } },
        { keyword: 'required', instancePath: '', params: { missingProperty: 'title' } },
        { keyword: 'enum', instancePath: '/visibility', params: { allowedValues: ['a', 'b'] } },
        { keyword: 'pattern', instancePath: '/title', params: { pattern: '\\S' }, message: 'must match pattern "\\S"' },
        { keyword: 'maximum', instancePath: '/limit', params: {}, message: 'must be <= 100' },
        { keyword: 'maximum', instancePath: '/limit', params: {}, message: 'must be <= 100' },
      ],
      'body',
    );
    expect(problems).toEqual([
      { field: 'body.colour', message: 'is not an accepted field' },
      { field: 'body.title', message: 'is required' },
      { field: 'body.visibility', message: 'must be one of: a, b' },
      { field: 'body.title', message: 'must not be blank' },
      { field: 'body.limit', message: 'must be <= 100' },
    ]);
  });

  it('calls the query string "query"', () => {
    expect(
      validationProblems(
        [{ keyword: 'type', instancePath: '/limit', params: {}, message: 'must be integer' }],
        'querystring',
      ),
    ).toEqual([{ field: 'query.limit', message: 'must be integer' }]);
  });
});

describe('bearerToken', () => {
  it('reads the token, accepts any case of the scheme, and flags malformed headers', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer mkt_abc')).toBe('mkt_abc');
    expect(bearerToken('bearer  mkt_abc ')).toBe('mkt_abc');
    for (const header of ['', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'mkt_abc']) {
      expect(bearerToken(header), header).toBeNull();
    }
  });
});
