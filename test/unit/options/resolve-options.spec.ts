import { InvalidOptionsError } from '../../../src/index.js';
import { resolveClientOptions } from '../../../src/options/resolve-client-options.js';
import { resolveServerOptions, resolveStreamOptions } from '../../../src/options/resolve-server-options.js';

describe('server option resolution', () => {
  it('fills every default', () => {
    const resolved = resolveServerOptions({ group: 'billing' });
    expect(resolved).toMatchObject({
      group: 'billing',
      connection: { host: 'localhost', port: 6379 },
      batchSize: 100,
      blockMs: 5000,
      concurrency: 200,
      claimIdleMs: 30000,
      claimIntervalMs: 1000,
      maxDeliveries: 16,
      shutdownTimeoutMs: 10000,
      startId: '$',
      missingStream: 'create',
      idleConsumerCleanupMs: 3600000,
      retry: { strategy: 'exponential', baseDelayMs: 1000, maxDelayMs: 30000, jitter: 0.2 },
    });
    expect(resolved.deadLetterStream('orders')).toBe('{orders}:dlq');
    expect(resolved.consumer).toMatch(/-\d+-[0-9a-f]{6}$/);
  });

  it('gives each instance its own consumer name', () => {
    expect(resolveServerOptions({ group: 'g' }).consumer).not.toBe(resolveServerOptions({ group: 'g' }).consumer);
  });

  it('lets an explicit undefined fall back to the default', () => {
    expect(resolveServerOptions({ group: 'g', blockMs: undefined }).blockMs).toBe(5000);
  });

  it.each([
    [{ group: '' }, 'group'],
    [{ group: 'g', batchSize: 0 }, 'batchSize'],
    [{ group: 'g', concurrency: 1.5 }, 'concurrency'],
    [{ group: 'g', startFrom: 'yesterday' }, 'startFrom'],
    [{ group: 'g', missingStream: 'ignore' }, 'missingStream'],
    [{ group: 'g', retry: { jitter: 2 } }, 'retry.jitter'],
    [{ group: 'g', retry: { strategy: 'linear' } }, 'retry.strategy'],
    [{ group: 'g', claimIdleMs: 1000, retry: { maxDelayMs: 5000 } }, 'retry.maxDelayMs'],
    [{ group: 42 }, 'group'],
    [{ group: 'g', consumer: 7 }, 'consumer'],
    [{ group: 'g', connection: 6379 }, 'connection'],
    [{ group: 'g', connection: [] }, 'connection'],
    [{ group: 'g', blockMs: '200' }, 'blockMs'],
    [{ group: 'g', retry: 'fast' }, 'retry'],
    [{ group: 'g', retry: { base: 10 } }, 'retry.base'],
    [{ group: 'g', retry: { baseDelayMs: '10' } }, 'retry.baseDelayMs'],
    [{ group: 'g', deadLetter: 'orders-dlq' }, 'deadLetter'],
    [{ group: 'g', deadLetter: { stream: 'orders-dlq' } }, 'deadLetter.stream'],
    [{ group: 'g', deadLetter: { maxLen: '100' } }, 'deadLetter.maxLen'],
    [{ group: 'g', deadLetter: { maxlen: 100 } }, 'deadLetter.maxlen'],
    [{ group: 'g', deserializer: 'json' }, 'deserializer'],
    [{ group: 'g', deserializer: {} }, 'deserializer'],
    [{ group: 'g', deserializer: { deserialize: 'yes' } }, 'deserializer'],
    [{ group: 'g', concurency: 5 }, 'concurency'],
    [{ group: 'g', port: 6379 }, 'port'],
    [{ group: 'g', idleConsumerCleanupMs: -1 }, 'idleConsumerCleanupMs'],
    [{ group: 'g', streamWaitIntervalMs: null }, 'streamWaitIntervalMs'],
  ])('rejects %j naming %s', (options, option) => {
    const attempt = () => resolveServerOptions(options as never);
    expect(attempt).toThrow(InvalidOptionsError);
    expect(attempt).toThrow(`"${option}"`);
  });

  it('maps startFrom to the XGROUP CREATE id', () => {
    expect(resolveServerOptions({ group: 'g', startFrom: 'beginning' }).startId).toBe('0');
    expect(resolveServerOptions({ group: 'g', startFrom: '1700000000000-3' }).startId).toBe('1700000000000-3');
  });

  it('caps retry delays at claimIdleMs', () => {
    const resolved = resolveServerOptions({ group: 'g', claimIdleMs: 500 });
    expect(resolved.retry).toMatchObject({ maxDelayMs: 500, baseDelayMs: 500 });
  });

  it('merges handler extras over the server options', () => {
    const base = resolveServerOptions({ group: 'g', concurrency: 10, retry: { baseDelayMs: 50 } });
    const merged = resolveStreamOptions({ concurrency: 1 }, base, 'extras: ');
    expect(merged).toMatchObject({ concurrency: 1, batchSize: 100, retry: { baseDelayMs: 50 } });
    expect(() => resolveStreamOptions({ concurrency: -1 }, base, 'extras: ')).toThrow('"extras: concurrency"');
  });

  it('checks handler extras for their type and refuses server-wide options there', () => {
    const base = resolveServerOptions({ group: 'g' });
    const extras = (value: object) => () => resolveStreamOptions(value, base, 'extras: ');
    expect(extras({ retry: 'fast' })).toThrow('"extras: retry"');
    expect(extras({ deadLetter: { stream: 'x' } })).toThrow('"extras: deadLetter.stream"');
    expect(extras({ group: 'other' })).toThrow('"extras: group"');
    expect(extras({ concurency: 1 })).toThrow('did you mean "concurrency"?');
  });

  it('takes the argo-events envelope on the server or a handler, with source and subject', () => {
    expect(resolveServerOptions({ group: 'g' }).envelope).toBeUndefined();
    const server = resolveServerOptions({ group: 'g', envelope: 'argo-events' });
    expect(server.envelope).toEqual({ format: 'argo-events', source: undefined, subject: undefined });
    // Inherited by handlers, or set by one of them.
    expect(resolveStreamOptions({}, server, 'extras: ').envelope).toEqual(server.envelope);
    const own = resolveStreamOptions(
      { envelope: { format: 'argo-events', source: 'shop', subject: 'order' } },
      resolveServerOptions({ group: 'g' }),
      'extras: ',
    );
    expect(own.envelope).toEqual({ format: 'argo-events', source: 'shop', subject: 'order' });
    const bad = (envelope: unknown) => () => resolveServerOptions({ group: 'g', envelope } as never);
    expect(bad('cloudevents')).toThrow('"envelope"');
    expect(bad({ format: 'cloudevents' })).toThrow('"envelope.format"');
    expect(bad({ format: 'argo-events', source: '' })).toThrow('"envelope.source"');
    expect(bad({ format: 'argo-events', subjekt: 'x' })).toThrow('did you mean "subject"?');
  });

  it('takes handlerTimeoutMs (off by default) on the server or a handler', () => {
    expect(resolveServerOptions({ group: 'g' }).handlerTimeoutMs).toBe(0);
    const server = resolveServerOptions({ group: 'g', handlerTimeoutMs: 5_000 });
    expect(resolveStreamOptions({}, server, 'extras: ').handlerTimeoutMs).toBe(5_000);
    expect(resolveStreamOptions({ handlerTimeoutMs: 100 }, server, 'extras: ').handlerTimeoutMs).toBe(100);
    expect(() => resolveServerOptions({ group: 'g', handlerTimeoutMs: -1 })).toThrow('"handlerTimeoutMs"');
    expect(() => resolveStreamOptions({ handlerTimeoutMs: 1.5 }, server, 'extras: ')).toThrow('"extras: handlerTimeoutMs"');
  });

  it('says where connection settings go when they are given at the top level', () => {
    expect(() => resolveServerOptions({ group: 'g', host: 'redis' } as never)).toThrow('go under "connection"');
  });

  it('accepts a deserializer with a deserialize() method', () => {
    const deserializer = { deserialize: (packet: { pattern: string; data: unknown }) => packet };
    expect(resolveServerOptions({ group: 'g', deserializer }).deserializer).toBe(deserializer);
  });
});

describe('client option resolution', () => {
  it('fills defaults and checks maxLen', () => {
    expect(resolveClientOptions(undefined)).toMatchObject({ maxLen: undefined, connectTimeoutMs: 5000 });
    expect(() => resolveClientOptions({ maxLen: 0 })).toThrow('"maxLen"');
  });
});
