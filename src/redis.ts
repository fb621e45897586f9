/**
 * The one factory for Redis connections, with the options each role needs:
 * - `worker`: BullMQ workers block on Redis and must never give up a command (`maxRetriesPerRequest: null`).
 * - `producer`: the API adds jobs on request paths; with Redis down it must fail fast (the request gets a 503)
 *   instead of queueing commands in memory (`enableOfflineQueue: false`).
 * - `subscriber`: pub/sub listener; keeps retrying and re-subscribes after reconnects (ioredis does this itself).
 * - `limiter`: rate-limit counters on every request: fails fast like `producer`, and a command that gets no answer
 *   (a Redis that accepts connections but hangs) gives up after a bound, so the limiter never holds a request.
 *
 * REDIS_URL names the topology (parseRedisUrl), and every role gets the same kind of client for it:
 * - `redis://[user:password@]host:port[/db]` (`rediss://` for TLS): one Redis server.
 * - `redis+cluster://[user:password@]host:port,host:port,…` (`rediss+cluster://`): a Redis Cluster, given by some of
 *   its nodes (the others are discovered). Pub/sub works cluster-wide (a PUBLISH on any node reaches subscribers on
 *   every node), and BullMQ's keys share one hash tag (src/queue/jobs.ts bullPrefix), as BullMQ requires.
 * - `redis+sentinel://[user:password@]host:port,host:port/<master name>[?db=n&sentinelPassword=…]`
 *   (`rediss+sentinel://`): Redis Sentinel; the clients ask the sentinels for the master and follow a failover.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'subscriber' | 'publisher' | 'limiter';

export interface RedisNode {
  host: string;
  port: number;
}

/** What REDIS_URL describes. Credentials apply to every data node (and `sentinelPassword` to the sentinels). */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisNode[];
      name: string;
      db: number;
      username?: string;
      password?: string;
      sentinelPassword?: string;
      tls: boolean;
    };

const TOPOLOGY_URL = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;

/**
 * Parses REDIS_URL into its topology; throws an Error whose message says what is wrong (src/config.ts shows it).
 * The message never repeats a password.
 */
export function parseRedisUrl(raw: string): RedisTopology {
  const value = raw.trim();
  const match = TOPOLOGY_URL.exec(value);
  if (!match) {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Error('must be a redis://, rediss://, redis+cluster:// or redis+sentinel:// URL');
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new Error(
        `must start with redis://, rediss://, redis+cluster:// or redis+sentinel://, got "${parsed.protocol}//"`,
      );
    }
    return { kind: 'single', url: value };
  }
  const [, scheme, kind, userinfo, hosts, path, query] = match;
  const nodes = hosts!.split(',').map((entry) => {
    const node = /^([^:,\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry.trim());
    if (!node || Number(node[2]) > 65535) throw new Error(`has "${entry}", which is not host:port`);
    return { host: node[1]!.replace(/^\[|\]$/g, ''), port: Number(node[2]) };
  });
  const [user, ...passwordParts] = userinfo === undefined ? [] : userinfo.split(':');
  const credentials = {
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(passwordParts.length > 0 ? { password: decodeURIComponent(passwordParts.join(':')) } : {}),
  };
  const params = new URLSearchParams(query ?? '');
  const tls = scheme === 'rediss';
  if (kind === 'cluster') {
    if (path && path !== '/') throw new Error('of a cluster names no database (a Redis Cluster has only db 0)');
    if (params.size > 0) throw new Error('of a cluster takes no query parameters');
    return { kind: 'cluster', nodes, tls, ...credentials };
  }
  const name = decodeURIComponent((path ?? '').replace(/^\//, ''));
  if (!name) throw new Error('of Sentinel must name the master after the sentinels: …/mymaster');
  for (const key of params.keys()) {
    if (key !== 'db' && key !== 'sentinelPassword') throw new Error(`has an unknown parameter "${key}"`);
  }
  const db = params.get('db') ?? '0';
  if (!/^\d{1,2}$/.test(db)) throw new Error(`has db=${db}, which is not a database number`);
  const sentinelPassword = params.get('sentinelPassword');
  return {
    kind: 'sentinel',
    sentinels: nodes,
    name,
    db: Number(db),
    tls,
    ...credentials,
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}

/**
 * ioredis's client, with one repair: `disconnect()` of a client that is `reconnecting` ends it.
 *
 * `reconnecting` means the socket has already closed and a retry timer is pending (after a Sentinel failover every
 * client is there for `retryStrategy`'s first delay, 200 ms; during a Redis outage for seconds at a time). ioredis's
 * `disconnect()` then clears the timer and ends a socket that is already gone, so no `close` and no `end` event ever
 * come: the client stays `reconnecting` for good, its pending commands are never settled, and whoever waits for
 * `end` waits forever. BullMQ's `Worker.close()` does exactly that: it disconnects the worker's blocking connection
 * and awaits `end` (RedisConnection.disconnect). Closing the workers within a second or two of a failover hung
 * (tests/integration/redis-sentinel.test.ts; the same as BullMQ issues #4585 and #4656). A socketless client is
 * ended the way ioredis ends one that never connected (status `wait`, its closeHandler): status `end`, pending
 * commands rejected with "Connection is closed.".
 *
 * `duplicate()` keeps the class: BullMQ makes each worker's blocking connection with `duplicate()`.
 */
class RedisClient extends Redis {
  override disconnect(reconnect = false): void {
    const socketless = !reconnect && this.status === 'reconnecting';
    super.disconnect(reconnect);
    if (socketless && this.status === 'reconnecting') {
      // Internals of ioredis 5 (Redis.setStatus, flushQueue, manuallyClosing), as its own closeHandler uses them;
      // tests/unit/redis-client.test.ts fails if they change.
      const internals = this as unknown as {
        manuallyClosing: boolean;
        setStatus(status: 'end'): void;
        flushQueue(error: Error): void;
      };
      internals.manuallyClosing = false;
      internals.setStatus('end');
      internals.flushQueue(new Error('Connection is closed.'));
    }
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new RedisClient({ ...this.options, ...override });
  }
}

/** Reconnect with capped back-off; Redis restarts are routine. */
const retryStrategy = (times: number) => Math.min(times * 200, 5000);

const PER_ROLE: Record<RedisRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null },
  producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
  subscriber: { maxRetriesPerRequest: null },
  publisher: { maxRetriesPerRequest: 2 },
  limiter: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 },
};

/**
 * A connection for `role` to the Redis that `url` (REDIS_URL) describes.
 *
 * Typed as `Redis` for every topology, a Cluster included. ioredis's Cluster and Redis classes share their command
 * interface (both are its Commander) and the events, `status`, `isCluster`, `quit()` and `disconnect()` the project
 * uses, but TypeScript declares them as unrelated classes; one client type keeps every port (queues, pub/sub, rate
 * limits, tickets, readiness) topology-blind. Do not use what only a single-server client has (`options.host`,
 * `stream`, SELECT, multi-key commands across slots): tests/integration/redis-cluster.test.ts runs the API and the
 * workers on a real cluster.
 */
export function createRedis(url: string, role: RedisRole, name: string): Redis {
  const topology = parseRedisUrl(url);
  const connectionName = `meldingskanal:${name}`;
  const { enableOfflineQueue, ...perNode } = PER_ROLE[role];
  if (topology.kind === 'single') {
    return new RedisClient(topology.url, { connectionName, retryStrategy, ...PER_ROLE[role] });
  }
  if (topology.kind === 'sentinel') {
    return new RedisClient({
      connectionName,
      retryStrategy,
      ...PER_ROLE[role],
      sentinels: topology.sentinels,
      name: topology.name,
      db: topology.db,
      ...(topology.username ? { username: topology.username } : {}),
      ...(topology.password ? { password: topology.password } : {}),
      ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
      ...(topology.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      sentinelRetryStrategy: retryStrategy,
      // Hear of a failover from the sentinels (+switch-master) at once, not only when the old master stops answering.
      failoverDetector: true,
    });
  }
  const options: ClusterOptions = {
    clusterRetryStrategy: retryStrategy,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    redisOptions: {
      connectionName,
      ...perNode,
      ...(topology.username ? { username: topology.username } : {}),
      ...(topology.password ? { password: topology.password } : {}),
      ...(topology.tls ? { tls: {} } : {}),
    },
  };
  return new Cluster(topology.nodes, options) as unknown as Redis;
}
