import { InvalidOptionsError } from '../../../src/index.js';
import { deadLetterKeyOf, legacyDeadLetterKeyOf, listKeysOf, replyStreamKeyOf } from '../../../src/routing/key-names.js';
import { hasHashTag, hashTagOf, keySlot, shareSlot } from '../../../src/routing/hash-slot.js';
import { listPattern, parseEmitPattern, parsePattern, streamPattern } from '../../../src/routing/stream-route.js';

function thrown(run: () => unknown): InvalidOptionsError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionsError');
}

describe('routing: a handler pattern', () => {
  it('routes stream:<key> to the stream key, keeping everything after the prefix', () => {
    expect(parsePattern('stream:orders')).toEqual({ kind: 'stream', key: 'orders' });
    expect(parsePattern('stream:{tenant}:orders')).toEqual({ kind: 'stream', key: '{tenant}:orders' });
    expect(parsePattern('stream:stream:x')).toEqual({ kind: 'stream', key: 'stream:x' });
    expect(parsePattern('stream: spaced ')).toEqual({ kind: 'stream', key: ' spaced ' });
  });

  it('leaves patterns of other transports alone', () => {
    for (const pattern of ['orders', 'orders.created', 'Stream:orders', ' stream:orders', 'List:jobs', '{"cmd":"sum"}', '']) {
      expect(parsePattern(pattern)).toBeUndefined();
    }
    expect(parsePattern(undefined)).toBeUndefined();
    expect(parsePattern({ cmd: 'stream:orders' })).toBeUndefined();
  });

  it('refuses the bare prefix, naming the pattern as the option and showing the form', () => {
    const error = thrown(() => parsePattern('stream:'));
    expect(error.option).toBe('stream:');
    expect(error.message).toBe('Invalid option "stream:": name a stream after "stream:", e.g. "stream:orders"');
  });

  it('builds the pattern of a stream key, which parses back to it', () => {
    expect(streamPattern('orders')).toBe('stream:orders');
    expect(parsePattern(streamPattern('{t}:orders'))).toEqual({ kind: 'stream', key: '{t}:orders' });
  });
});

describe('routing: an emit pattern', () => {
  it('routes stream:<key> like a handler pattern', () => {
    expect(parseEmitPattern('stream:orders')).toEqual({ kind: 'stream', key: 'orders' });
  });

  it.each([['orders'], ['stream:'], [''], [42], [{ cmd: 'x' }]])('refuses %j as the "pattern" option, quoting it', (pattern) => {
    const error = thrown(() => parseEmitPattern(pattern));
    expect(error.option).toBe('pattern');
    expect(error.message).toBe(
      `Invalid option "pattern": emit() needs a pattern of the form "stream:<key>" or "list:<key>", got ${JSON.stringify(pattern)}`,
    );
  });
});

describe('routing: key names', () => {
  it("puts a source without a hash tag into the dead-letter stream's tag, so both share a slot", () => {
    expect(deadLetterKeyOf('orders')).toBe('{orders}:dlq');
    expect(deadLetterKeyOf('shop:orders')).toBe('{shop:orders}:dlq');
    for (const stream of ['orders', 'shop:orders', 'é-orders', 'orders{']) {
      expect(shareSlot(stream, deadLetterKeyOf(stream))).toBe(true);
    }
  });

  it('cannot keep the slot of a key with a } but no tag (a tag ends at the first })', () => {
    // An empty tag is no tag: the whole key is hashed, and no tag can hold its "}".
    expect(deadLetterKeyOf('orders{}')).toBe('{orders{}}:dlq');
    expect(shareSlot('orders{}', deadLetterKeyOf('orders{}'))).toBe(false);
  });

  it('appends :dlq to a source that has a hash tag, which keeps its slot', () => {
    expect(deadLetterKeyOf('{shop}:orders')).toBe('{shop}:orders:dlq');
    expect(deadLetterKeyOf('orders:{eu}')).toBe('orders:{eu}:dlq');
    expect(deadLetterKeyOf('{a}{b}')).toBe('{a}{b}:dlq');
    for (const stream of ['{shop}:orders', 'orders:{eu}', '{a}{b}']) {
      expect(shareSlot(stream, deadLetterKeyOf(stream))).toBe(true);
    }
  });

  it('knows the name versions before 0.2.0 used, to find old dead letters', () => {
    expect(legacyDeadLetterKeyOf('orders')).toBe('orders:dlq');
    expect(legacyDeadLetterKeyOf('{shop}:orders')).toBe(deadLetterKeyOf('{shop}:orders'));
  });
});

describe('routing: hash tags and slots', () => {
  it("finds the hash tag by Redis' rule: the first {, the first } after it, something between", () => {
    expect(hashTagOf('{user1000}.following')).toBe('user1000');
    expect(hashTagOf('foo{bar}{zap}')).toBe('bar');
    expect(hashTagOf('foo{{bar}}zap')).toBe('{bar');
    expect(hashTagOf('foo{}{bar}')).toBeUndefined();
    expect(hashTagOf('orders')).toBeUndefined();
    expect(hashTagOf('a}b{c')).toBeUndefined();
    expect(hashTagOf('{')).toBeUndefined();
  });

  // Every value checked against CLUSTER KEYSLOT of a redis-server 7.0.
  it.each([
    ['foo', 12182],
    ['bar', 5061],
    ['123456789', 12739],
    ['{user1000}.following', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['orders', 105],
    ['{shop}:orders', 3808],
    ['P:orders', 8654],
    ['é', 10180],
    ['', 0],
    ['{', 4092],
    ['{}', 15257],
    ['a}b', 7866],
  ])('keySlot(%j) is %i, as CLUSTER KEYSLOT says', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('hashes bytes like the same text, and keys with one tag to one slot', () => {
    expect(keySlot(Buffer.from('foo'))).toBe(keySlot('foo'));
    expect(keySlot(Buffer.from([0xff, 0x7b, 0x61, 0x7d]))).toBe(keySlot('a'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(shareSlot('{user1000}.following', '{user1000}.followers', 'user1000')).toBe(true);
    expect(shareSlot('orders', 'orders:dlq')).toBe(false);
    expect(shareSlot()).toBe(true);
  });
});

describe('routing: list queues', () => {
  it('routes list:<key> to a list route, and refuses the bare prefix', () => {
    expect(parsePattern('list:jobs')).toEqual({ kind: 'list', key: 'jobs' });
    expect(parsePattern('list:{shop}:jobs')).toEqual({ kind: 'list', key: '{shop}:jobs' });
    expect(parseEmitPattern('list:jobs')).toEqual({ kind: 'list', key: 'jobs' });
    expect(listPattern('jobs')).toBe('list:jobs');
    expect(thrown(() => parsePattern('list:')).message).toBe('Invalid option "list:": name a list after "list:", e.g. "list:jobs"');
    expect(() => parseEmitPattern('list:')).toThrow(InvalidOptionsError);
  });

  it('names every key of a list under its hash tag, so that all share the list slot', () => {
    const keys = listKeysOf('jobs', 'w1');
    expect(keys).toEqual({
      list: 'jobs',
      processing: '{jobs}:processing:w1',
      alive: '{jobs}:alive:w1',
      registry: '{jobs}:consumers',
      retry: '{jobs}:retry',
    });
    expect(deadLetterKeyOf('jobs')).toBe('{jobs}:dlq');
    expect(shareSlot(keys.list, keys.processing, keys.alive, keys.registry, keys.retry, deadLetterKeyOf('jobs'))).toBe(true);
    const tagged = listKeysOf('{shop}:jobs', 'a{b}');
    expect(tagged.processing).toBe('{shop}:jobs:processing:a{b}');
    expect(shareSlot(tagged.list, tagged.processing, tagged.alive, tagged.registry, tagged.retry, deadLetterKeyOf('{shop}:jobs'))).toBe(
      true,
    );
  });
});

describe('reply stream names', () => {
  it('is one key under nrs:reply:, unique per id', () => {
    expect(replyStreamKeyOf('3f2c')).toBe('nrs:reply:3f2c');
    expect(hasHashTag(replyStreamKeyOf('a'))).toBe(false);
  });
});
