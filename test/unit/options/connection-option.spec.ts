import { Cluster, Redis } from 'ioredis';
import { InvalidOptionsError } from '../../../src/index.js';
import { clusterKeyPrefix, connectionOption, isClusterConnection } from '../../../src/options/connection-option.js';
import { checkDeadLetterSlots } from '../../../src/options/cluster-keys.js';
import { keySlot } from '../../../src/routing/hash-slot.js';

function failure(run: () => unknown): InvalidOptionsError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionsError');
}

describe('the connection option: Redis Cluster', () => {
  it('takes a cluster description and tells it from options for one Redis', () => {
    const description = { cluster: [{ host: '10.0.0.1', port: 7000 }], clusterOptions: { redisOptions: { password: 'p' } } };
    expect(connectionOption(description)).toEqual(description);
    expect(isClusterConnection(connectionOption(description))).toBe(true);
    expect(isClusterConnection(connectionOption({ host: 'redis', port: 6379 }))).toBe(false);
    expect(isClusterConnection(connectionOption('redis://redis:6379'))).toBe(false);
  });

  it('takes a ready Cluster instance as a cluster, and a Redis instance as one Redis', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    const redis = new Redis({ lazyConnect: true });
    try {
      expect(connectionOption(cluster)).toBe(cluster);
      expect(isClusterConnection(cluster)).toBe(true);
      expect(connectionOption(redis)).toBe(redis);
      expect(isClusterConnection(redis)).toBe(false);
    } finally {
      cluster.disconnect();
      redis.disconnect();
    }
  });

  it.each([
    [{ cluster: [] }, 'connection.cluster', 'at least one node'],
    [{ cluster: 'redis:7000' }, 'connection.cluster', 'at least one node'],
    [{ cluster: [{ host: 'a' }] }, 'connection.cluster[0].port', 'port number'],
    [{ cluster: [{ host: 'a', port: 70_000 }] }, 'connection.cluster[0].port', 'port number'],
    [{ cluster: [{ host: '', port: 7000 }] }, 'connection.cluster[0].host', 'host name'],
    [{ cluster: ['a:7000'] }, 'connection.cluster[0]', '{ host, port }'],
    [{ cluster: [{ host: 'a', port: 7000, password: 'p' }] }, 'connection.cluster[0].password', 'clusterOptions.redisOptions'],
    [{ cluster: [{ host: 'a', port: 7000 }], password: 'p' }, 'connection.password', 'clusterOptions.redisOptions'],
    [{ cluster: [{ host: 'a', port: 7000 }], clusterOptions: 'fast' }, 'connection.clusterOptions', 'ClusterOptions'],
  ])('refuses %j, naming %s', (value, option, expects) => {
    const error = failure(() => connectionOption(value));
    expect(error.option).toBe(option);
    expect(error.message).toContain(expects);
  });

  it('finds the key prefix ioredis applies to a cluster', () => {
    expect(clusterKeyPrefix({ cluster: [{ host: 'a', port: 1 }] })).toBe('');
    expect(clusterKeyPrefix({ cluster: [{ host: 'a', port: 1 }], clusterOptions: { keyPrefix: 'app:' } })).toBe('app:');
    expect(clusterKeyPrefix({ cluster: [{ host: 'a', port: 1 }], clusterOptions: { redisOptions: { keyPrefix: 'n:' } } })).toBe('n:');
  });
});

describe('the dead-letter slot check on a cluster', () => {
  const route = (stream: string, deadLetterStream: string) => ({ pattern: `stream:${stream}`, stream, deadLetterStream });

  it('takes dead-letter streams in their source stream’s slot', () => {
    expect(() =>
      checkDeadLetterSlots([route('{shop}:orders', '{shop}:orders:dlq'), route('orders', '{orders}:dlq'), route('{a}x', '{a}y')]),
    ).not.toThrow();
  });

  it('refuses one in another slot, naming both slots and a name that works', () => {
    const error = failure(() => checkDeadLetterSlots([route('orders', 'orders:dlq')]));
    expect(error.option).toBe('deadLetter.stream (of stream:orders)');
    expect(error.message).toContain(`"orders:dlq" is in slot ${keySlot('orders:dlq')}, "orders" in slot ${keySlot('orders')}`);
    expect(error.message).toContain('"{orders}:dlq"');
    const tagged = failure(() => checkDeadLetterSlots([route('{shop}:orders', 'dead')]));
    expect(tagged.message).toContain('"{shop}:orders:dlq"');
  });

  it('hashes the keys with the key prefix ioredis puts before them', () => {
    // A prefix with a hash tag puts every key in one slot.
    expect(() => checkDeadLetterSlots([route('orders', 'orders:dlq')], '{app}:')).not.toThrow();
    expect(() => checkDeadLetterSlots([route('orders', 'orders:dlq')], 'app:')).toThrow(InvalidOptionsError);
  });

  it('with a keyPrefix without a hash tag, names a dead-letter stream that works under that prefix', () => {
    const error = failure(() => checkDeadLetterSlots([route('orders', '{orders}:dlq')], 'app:'));
    expect(error.message).toContain('keyPrefix "app:"');
    expect(error.message).toContain('"{app:orders}:dlq"');
    // The suggested name, prefixed as ioredis stores it, lies in the source key's slot.
    expect(keySlot('app:{app:orders}:dlq')).toBe(keySlot('app:orders'));
    expect(() => checkDeadLetterSlots([route('orders', '{app:orders}:dlq')], 'app:')).not.toThrow();
    expect(error.message).toContain('"{app}:"');
  });
});
