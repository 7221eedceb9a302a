import { InvalidOptionsError } from '../../../src/index.js';
import { deadLetterKeyOf } from '../../../src/routing/key-names.js';
import { parseEmitPattern, parsePattern, streamPattern } from '../../../src/routing/stream-route.js';

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
    for (const pattern of ['orders', 'orders.created', 'Stream:orders', ' stream:orders', 'list:jobs', '{"cmd":"sum"}', '']) {
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
      `Invalid option "pattern": emit() needs a pattern of the form "stream:<key>", got ${JSON.stringify(pattern)}`,
    );
  });
});

describe('routing: key names', () => {
  it('names the default dead-letter stream after its source', () => {
    expect(deadLetterKeyOf('orders')).toBe('orders:dlq');
    expect(deadLetterKeyOf('{tenant}:orders')).toBe('{tenant}:orders:dlq');
  });
});
