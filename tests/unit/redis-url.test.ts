/** REDIS_URL's three forms (src/redis.ts parseRedisUrl) and the configuration's messages for bad ones. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseRedisUrl } from '../../src/redis.js';

describe('parseRedisUrl', () => {
  it('reads one server as it is', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://user:pw@redis.uio.no:6380')).toMatchObject({ kind: 'single' });
  });

  it('reads a cluster from its seed nodes, with credentials and TLS for every node', () => {
    expect(parseRedisUrl('rediss+cluster://mk:s%3Acret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'mk',
      password: 's:cret',
      tls: true,
    });
    expect(parseRedisUrl('redis+cluster://a:1/')).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'a', port: 1 }],
      tls: false,
    });
  });

  it('reads Sentinel: sentinels, master name, database and the sentinels own password', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@s1:26379,s2:26379/mymaster?db=3&sentinelPassword=sp')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      db: 3,
      password: 'pw',
      sentinelPassword: 'sp',
      tls: false,
    });
  });

  it('says what is wrong, without repeating a password', () => {
    expect(() => parseRedisUrl('http://x:1')).toThrow(/must start with redis:\/\//);
    expect(() => parseRedisUrl('redis+cluster://a:1,b')).toThrow('has "b", which is not host:port');
    expect(() => parseRedisUrl('redis+cluster://a:1/3')).toThrow(/only db 0/);
    expect(() => parseRedisUrl('redis+sentinel://s:26379')).toThrow(/must name the master/);
    expect(() => parseRedisUrl('redis+sentinel://s:26379/m?dbx=1')).toThrow(/unknown parameter "dbx"/);
    try {
      loadConfig({ REDIS_URL: 'redis+cluster://mk:topsecret@a:1,b' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('REDIS_URL has "b", which is not host:port');
      expect((error as Error).message).not.toContain('topsecret');
    }
  });
});
