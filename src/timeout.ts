/** Bounding a wait on a dependency: probes and scrapes must answer even when PostgreSQL or Redis does not. */

export class TimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what} did not answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Resolves with `work`'s result, or rejects with TimeoutError after `timeoutMs`. The timer is always cleared, so
 * nothing lingers once the caller has its answer. (The underlying operation is not cancelled; it settles unobserved.)
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
