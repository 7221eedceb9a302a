import { Redis } from 'ioredis';
import { InvalidOptionsError } from '../../../src/index.js';
import { assertPrefixOnce, keyPrefixOf, prefixedKey, repeatsKeyPrefix, unprefixedKey } from '../../../src/routing/key-prefix.js';

describe('routing: keyPrefix', () => {
  it('reads the prefix from ioredis options, a URL query or an instance', () => {
    expect(keyPrefixOf({ host: 'localhost', keyPrefix: 'shop:' })).toBe('shop:');
    expect(keyPrefixOf({ host: 'localhost' })).toBe('');
    expect(keyPrefixOf('redis://localhost:6379/2?keyPrefix=shop%3A')).toBe('shop:');
    expect(keyPrefixOf('rediss://user:pw@localhost:6380')).toBe('');
    expect(keyPrefixOf('/tmp/redis.sock?keyPrefix=eu.')).toBe('eu.');
    const instance = new Redis({ lazyConnect: true, keyPrefix: 'inst:' });
    try {
      expect(keyPrefixOf(instance)).toBe('inst:');
    } finally {
      instance.disconnect();
    }
  });

  it('puts the prefix in front once and takes it off once', () => {
    expect(prefixedKey('shop:', '{orders}:dlq')).toBe('shop:{orders}:dlq');
    expect(prefixedKey('', 'orders')).toBe('orders');
    expect(unprefixedKey('shop:', 'shop:orders')).toBe('orders');
    expect(unprefixedKey('shop:', 'shop:shop:orders')).toBe('shop:orders');
    expect(unprefixedKey('shop:', 'orders')).toBe('orders');
    expect(unprefixedKey('', 'shop:orders')).toBe('shop:orders');
  });

  it('tells a name that repeats a prefix ending in a separator', () => {
    expect(repeatsKeyPrefix('shop:', 'shop:orders')).toBe(true);
    expect(repeatsKeyPrefix('{shop}', '{shop}orders')).toBe(true);
    expect(repeatsKeyPrefix('shop:', 'orders')).toBe(false);
    expect(repeatsKeyPrefix('app', 'apple')).toBe(false);
    expect(repeatsKeyPrefix('', 'orders')).toBe(false);
  });

  it('refuses a name that repeats the prefix, naming the key in Redis and the name to use', () => {
    expect(() => assertPrefixOnce('shop:', 'orders', 'stream:orders')).not.toThrow();
    let error: unknown;
    try {
      assertPrefixOnce('shop:', 'shop:orders', 'stream:shop:orders');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).option).toBe('stream:shop:orders');
    expect((error as Error).message).toContain('"shop:shop:orders"');
    expect((error as Error).message).toContain('Name it without the prefix ("orders")');
  });
});
