import { hashedPart, keySlot } from '../../../src/routing/cluster-slot.js';

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
    expect(hashedPart('{shop}:orders').toString()).toBe('shop');
    expect(hashedPart('orders').toString()).toBe('orders');
    expect(hashedPart('{}orders').toString()).toBe('{}orders');
    expect(hashedPart('{shop').toString()).toBe('{shop');
    expect(hashedPart('a{b}{c}').toString()).toBe('b');
    expect(hashedPart('a{{b}}').toString()).toBe('{b');
  });

  it('puts a stream and a dead-letter stream with the same tag in one slot', () => {
    expect(keySlot('{shop}:orders:dlq')).toBe(keySlot('{shop}:orders'));
    expect(keySlot('orders:dlq')).not.toBe(keySlot('orders'));
  });
});
