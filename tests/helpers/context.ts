/**
 * A test file's world: its own database (cloned from the template), its own Redis key prefix, a configuration
 * pointing at both, and the real dependency container. Call `close()` in afterAll.
 */
import { type Config, loadConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { deleteRedisPrefix, testRedisPrefix } from './redis.js';
import { REDIS_URL } from './urls.js';

export interface TestContext {
  database: TestDatabase;
  config: Config;
  deps: Deps;
  /** The environment the config was made from, for starting child processes with the same settings. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const TEST_UNSUBSCRIBE_SECRET = 'test-unsubscribe-secret-0123456789abcdef';

/**
 * `overrides` replace settings; as a function it receives the test database's URL (to put a proxy in front of it).
 */
export async function createTestContext(
  overrides: Record<string, string> | ((databaseUrl: string) => Record<string, string>) = {},
): Promise<TestContext> {
  const database = await createTestDatabase();
  const prefix = testRedisPrefix();
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    SEED_ON_EMPTY: 'false',
    MIGRATE_ON_START: 'false',
    // The read cache learns of writes a moment after their commit (PostgreSQL's notifications); tests that write
    // rows and read them back at once would race it. tests/http/read-cache.test.ts turns it on and waits.
    READ_CACHE_TTL_MS: '0',
    ...(typeof overrides === 'function' ? overrides(database.url) : overrides),
  };
  const config = loadConfig(env);
  const deps = createDeps(config);
  return {
    database,
    config,
    deps,
    env,
    async close() {
      await deps.close();
      await database.drop();
      await deleteRedisPrefix(prefix);
    },
  };
}
