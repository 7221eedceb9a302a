import { hashTagOf, keySlot } from '../../../src/routing/hash-slot.js';

describe('routing: the cluster hash slot of a key', () => {
  it('is the slot CLUSTER KEYSLOT gives (values read from redis-server 7.0)', () => {
    expect(keySlot('orders')).toBe(105);
    expect(keySlot('{orders}:dlq')).toBe(105);
    expect(keySlot('{shop}:orders')).toBe(3808);
    expect(keySlot('{}orders')).toBe(2209);
    expect(keySlot('s1')).toBe(15224);
    expect(keySlot('foo{bar}{zap}')).toBe(5061);
    expect(keySlot('héllo')).toBe(11061);
    expect(keySlot(Buffer.from('orders'))).toBe(105);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(hashTagOf('{shop}:orders')).toBe('shop');
    expect(hashTagOf('orders')).toBeUndefined();
    expect(hashTagOf('{}orders')).toBeUndefined();
    expect(hashTagOf('{shop')).toBeUndefined();
    expect(hashTagOf('a{b}{c}')).toBe('b');
    expect(hashTagOf('a{{b}}')).toBe('{b');
  });

  it('puts a stream and a dead-letter stream with the same tag in one slot', () => {
    expect(keySlot('{shop}:orders:dlq')).toBe(keySlot('{shop}:orders'));
    expect(keySlot('orders:dlq')).not.toBe(keySlot('orders'));
  });
});
