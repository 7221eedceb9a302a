import { Redis } from 'ioredis';
import { InvalidOptionsError, type RedisStreamsClientOptions } from '../../../src/index.js';
import { resolveClientOptions } from '../../../src/options/resolve-client-options.js';

/** Options as a caller without types (plain JavaScript, a config file) may pass them. */
function untyped(options: unknown): RedisStreamsClientOptions {
  return options as RedisStreamsClientOptions;
}

function failure(options: RedisStreamsClientOptions | undefined): InvalidOptionsError | undefined {
  try {
    resolveClientOptions(options);
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
  return undefined;
}

describe('client option resolution: defaults', () => {
  it('fills every default', () => {
    expect(resolveClientOptions(undefined)).toEqual({
      connection: { host: 'localhost', port: 6379 },
      maxLen: undefined,
      connectTimeoutMs: 5000,
      emitTimeoutMs: 5000,
      maxQueuedEmits: 10000,
      replyTimeoutMs: 30000,
      serializer: undefined,
      telemetry: { metrics: true, traces: true },
    });
  });

  it('lets an explicit undefined fall back to the default', () => {
    expect(resolveClientOptions({ emitTimeoutMs: undefined, maxQueuedEmits: undefined })).toMatchObject({
      emitTimeoutMs: 5000,
      maxQueuedEmits: 10000,
    });
  });

  it('keeps valid values', () => {
    const serializer = { serialize: (packet: unknown) => packet };
    const instance = new Redis({ lazyConnect: true });
    try {
      expect(
        resolveClientOptions({
          connection: 'redis://127.0.0.1:1',
          maxLen: 5,
          connectTimeoutMs: 1,
          emitTimeoutMs: 300,
          maxQueuedEmits: 0,
          replyTimeoutMs: 250,
          serializer,
          telemetry: { traces: false },
        }),
      ).toEqual({
        connection: 'redis://127.0.0.1:1',
        maxLen: 5,
        connectTimeoutMs: 1,
        emitTimeoutMs: 300,
        maxQueuedEmits: 0,
        replyTimeoutMs: 250,
        serializer,
        telemetry: { metrics: true, traces: false },
      });
      expect(resolveClientOptions({ connection: instance }).connection).toBe(instance);
      expect(resolveClientOptions({ connection: { host: 'h', port: 1 } }).connection).toEqual({ host: 'h', port: 1 });
    } finally {
      instance.disconnect();
    }
  });
});

describe('client option resolution: every option is checked for its type', () => {
  it.each([
    ['a string', 'redis://localhost:6379'],
    ['a number', 5],
    ['null', null],
    ['an array', [{ connection: 'redis://localhost' }]],
  ])('refuses options that are %s', (_what, options) => {
    const error = failure(untyped(options));
    expect(error).toMatchObject({ option: 'options' });
    expect(error?.message).toContain('must be an object');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['connection', { connection: 5 }, 'connection', 'ioredis options, a redis:// URL or an ioredis instance'],
    ['connection', { connection: null }, 'connection', 'ioredis options, a redis:// URL or an ioredis instance'],
    ['connection', { connection: '' }, 'connection', 'ioredis options, a redis:// URL or an ioredis instance'],
    ['connection', { connection: ['localhost'] }, 'connection', 'ioredis options, a redis:// URL or an ioredis instance'],
    ['connection', { connection: () => 'redis://localhost' }, 'connection', 'ioredis options, a redis:// URL or an ioredis instance'],
    ['maxLen', { maxLen: '5' }, 'maxLen', 'whole number >= 1'],
    ['maxLen', { maxLen: 0 }, 'maxLen', 'whole number >= 1'],
    ['maxLen', { maxLen: null }, 'maxLen', 'whole number >= 1'],
    ['connectTimeoutMs', { connectTimeoutMs: '5000' }, 'connectTimeoutMs', 'whole number >= 1'],
    ['connectTimeoutMs', { connectTimeoutMs: 0 }, 'connectTimeoutMs', 'whole number >= 1'],
    ['emitTimeoutMs', { emitTimeoutMs: '300' }, 'emitTimeoutMs', 'whole number >= 1'],
    ['emitTimeoutMs', { emitTimeoutMs: 0 }, 'emitTimeoutMs', 'whole number >= 1'],
    ['emitTimeoutMs', { emitTimeoutMs: Infinity }, 'emitTimeoutMs', 'whole number >= 1'],
    ['maxQueuedEmits', { maxQueuedEmits: -1 }, 'maxQueuedEmits', 'whole number >= 0'],
    ['maxQueuedEmits', { maxQueuedEmits: 1.5 }, 'maxQueuedEmits', 'whole number >= 0'],
    ['maxQueuedEmits', { maxQueuedEmits: '10' }, 'maxQueuedEmits', 'whole number >= 0'],
    ['serializer', { serializer: 'json' }, 'serializer', 'an object with a serialize(packet) function'],
    ['serializer', { serializer: {} }, 'serializer', 'an object with a serialize(packet) function'],
    ['serializer', { serializer: { serialize: 'json' } }, 'serializer', 'an object with a serialize(packet) function'],
    ['serializer', { serializer: null }, 'serializer', 'an object with a serialize(packet) function'],
    ['serializer', { serializer: (packet: unknown) => packet }, 'serializer', 'an object with a serialize(packet) function'],
  ])('refuses a wrong %s: %p', (_name, options, option, expects) => {
    const error = failure(untyped(options));
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toMatchObject({ option });
    expect(error?.message).toContain(`"${option}"`);
    expect(error?.message).toContain(expects);
  });
});
