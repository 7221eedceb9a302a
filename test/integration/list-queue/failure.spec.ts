import { DEAD_LETTER_FIELDS, LeaseLostError, UnrecoverableError, type RedisListContext } from '../../../src/index.js';
import { fromBytes } from '../../../src/codec/stream-codec.js';
import { readDeadLetterFields, isListDeadLetter } from '../../../src/codec/dead-letter-record.js';
import { fastOptions } from '../../support/apps.js';
import { keysOf, listController, listQueueKeys, pushAll } from '../../support/list-queue.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';
import { CapturingLogger } from '../../support/logs.js';

interface Call {
  readonly at: number;
  readonly deliveries: number;
  readonly data: unknown;
}

describe('list queues: retries and dead letters', () => {
  const scene = useScene('jobs');

  async function startFailing(
    handle: (data: unknown, ctx: RedisListContext) => Promise<void> | void,
    extra: Record<string, unknown> = {},
    logger?: CapturingLogger,
  ) {
    return scene.start(
      [listController(scene.stream, handle)],
      fastOptions({
        group: scene.group,
        consumer: 'c1',
        claimIdleMs: 2_000,
        claimIntervalMs: 50,
        maxDeliveries: 4,
        retry: { baseDelayMs: 100, jitter: 0 },
        ...extra,
      }),
      [],
      logger === undefined ? {} : { logger },
    );
  }

  async function deadLetters() {
    const rows = await scene.redis.xrangeBuffer(scene.probe.with({ stream: scene.stream }).deadLetterStream, '-', '+');
    return rows.map(([, flat]) => ({ flat, record: readDeadLetterFields(fromBytes(flat)) }));
  }

  it('retries a failing entry with growing delays, then dead-letters it byte for byte (binary) into {list}:dlq with the origin fields', async () => {
    const entry = Buffer.from([0xff, 0x00, 0x80, 0x41, 0x0a]);
    const calls: Call[] = [];
    await startFailing((data, ctx) => {
      calls.push({ at: Date.now(), deliveries: ctx.getDeliveryCount(), data });
      throw new Error('payment service down');
    });
    await pushAll(scene.redis, scene.stream, [entry]);
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'the entry dead-lettered', timeoutMs: 10_000 });
    expect(calls.map((call) => call.deliveries)).toEqual([1, 2, 3, 4]);
    expect(calls.every((call) => Buffer.isBuffer(call.data) && entry.equals(call.data))).toBe(true);
    // Exponential from 100 ms: 100, 200, 400 between the deliveries.
    const gaps = calls.slice(1).map((call, i) => call.at - calls[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeGreaterThanOrEqual(395);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);

    const [dead] = await deadLetters();
    expect(dead!.flat[0]).toEqual(Buffer.from('list-entry'));
    expect(dead!.flat[1]).toEqual(entry);
    const record = dead!.record!;
    expect(record).toMatchObject({ stream: scene.stream, id: 'list', group: scene.group, consumer: 'c1', deliveries: 4 });
    // The handler's own error, although Nest's exception layer replaces it for the transport.
    expect(record.error).toBe('Error: payment service down');
    expect(isListDeadLetter(record)).toBe(true);
    const names = dead!.flat.filter((_, i) => i % 2 === 0).map((name) => name.toString());
    expect(names).toEqual(['list-entry', ...Object.values(DEAD_LETTER_FIELDS)]);
    // Nothing left in the list, the processing list or the retry set.
    const keys = keysOf(scene.stream, 'c1');
    expect(await listQueueKeys(scene.redis, scene.stream)).toEqual([keys.alive, keys.registry, `{${scene.stream}}:dlq`].sort());
  });

  it('keeps a retried entry out of the list until it is due', async () => {
    const calls: Call[] = [];
    await startFailing(
      (data, ctx) => {
        calls.push({ at: Date.now(), deliveries: ctx.getDeliveryCount(), data });
        if (ctx.getDeliveryCount() === 1) throw new Error('not yet');
      },
      { retry: { baseDelayMs: 600, jitter: 0 } },
    );
    await pushAll(scene.redis, scene.stream, ['once']);
    const { retry } = keysOf(scene.stream, 'c1');
    await waitFor(async () => (await scene.redis.zcard(retry)) === 1, { message: 'the entry in the retry set' });
    expect(await scene.redis.llen(scene.stream)).toBe(0);
    await waitFor(() => calls.length === 2, { message: 'the retry delivered' });
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(595);
    expect(calls[1]!.data).toBe('once');
    await waitFor(async () => (await scene.redis.exists(retry)) === 0, { message: 'the retry set emptied' });
  });

  it('dead-letters at once what claims our format but does not decode, and an UnrecoverableError, without retrying', async () => {
    const calls: unknown[] = [];
    await startFailing((data) => {
      calls.push(data);
      throw new UnrecoverableError('no such sku');
    });
    await pushAll(scene.redis, scene.stream, ['\u0000nrs1:j:{not json', 'poison']);
    await waitFor(async () => (await deadLetters()).length === 2, { message: 'two dead letters' });
    expect(calls).toEqual(['poison']);
    const [undecodable, unrecoverable] = (await deadLetters()).map((dead) => dead.record!);
    expect(undecodable!.error).toBe('undecodable: list entry data is not valid JSON (9 bytes)');
    expect(undecodable!.deliveries).toBe(1);
    expect(undecodable!.fields[1]).toBe('\u0000nrs1:j:{not json');
    expect(unrecoverable!.error).toContain('unrecoverable');
    expect(unrecoverable!.deliveries).toBe(1);
  });

  it('lets the handler retry after a delay of its own and dead-letter by hand', async () => {
    const calls: Call[] = [];
    await startFailing(async (data, ctx) => {
      calls.push({ at: Date.now(), deliveries: ctx.getDeliveryCount(), data });
      if (ctx.getDeliveryCount() === 1) await ctx.retry(250);
      else await ctx.deadLetter('manual');
    });
    await pushAll(scene.redis, scene.stream, ['by-hand']);
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'dead-lettered by hand' });
    expect(calls.map((call) => call.deliveries)).toEqual([1, 2]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(245);
    const [dead] = await deadLetters();
    expect(dead!.record).toMatchObject({ error: 'manual', deliveries: 2 });
  });

  it('tries a dead letter again after claimIdleMs while the dead-letter stream cannot take it, the entry kept in the processing list meanwhile, and logs no payload', async () => {
    const logger = new CapturingLogger();
    await startFailing(
      () => {
        throw new UnrecoverableError('bad job');
      },
      { claimIdleMs: 400, retry: { baseDelayMs: 100, jitter: 0 } },
      logger,
    );
    const dlq = `{${scene.stream}}:dlq`;
    await scene.redis.set(dlq, 'not a stream');
    await pushAll(scene.redis, scene.stream, ['secret-payload-42']);
    await waitFor(() => logger.matching('error', 'could not dead-letter').length === 1, { message: 'the failed dead letter logged' });
    const { processing } = keysOf(scene.stream, 'c1');
    expect(await scene.redis.lrange(processing, 0, -1)).toEqual(['secret-payload-42']);
    await scene.redis.del(dlq);
    await waitFor(async () => (await scene.redis.exists(dlq)) === 1 && (await scene.redis.type(dlq)) === 'stream', {
      message: 'the dead letter written once the key is a stream again',
    });
    expect(await scene.redis.llen(processing)).toBe(0);
    expect(logger.all()).not.toContain('secret-payload-42');
  });

  it('fails an entry whose handler runs past handlerTimeoutMs, aborting its signal, and dead-letters it past maxDeliveries', async () => {
    const signals: AbortSignal[] = [];
    await startFailing(
      (_data, ctx) => {
        signals.push(ctx.signal);
        return new Promise<void>(() => undefined);
      },
      { handlerTimeoutMs: 100, maxDeliveries: 2, retry: { baseDelayMs: 10, jitter: 0 } },
    );
    await pushAll(scene.redis, scene.stream, ['slow-job']);
    await waitFor(async () => (await deadLetters()).length === 1, { message: 'dead-lettered after two timed-out deliveries' });
    expect(signals).toHaveLength(2);
    for (const signal of signals) {
      expect(signal.aborted).toBe(true);
      expect(String((signal.reason as Error).message)).toContain(
        `List "${scene.stream}": the handler of an entry did not finish within handlerTimeoutMs (100 ms)`,
      );
    }
    const [dead] = await deadLetters();
    expect(dead!.record).toMatchObject({ deliveries: 2 });
    expect(dead!.record!.error).toContain('HandlerTimeoutError');
    expect(await scene.redis.llen(keysOf(scene.stream, 'c1').processing)).toBe(0);
  });

  it('aborts the signal of an entry another consumer recovered (the liveness key lapsed), and leaves the entry to it', async () => {
    const signals: AbortSignal[] = [];
    const logger = new CapturingLogger();
    const outcomes: string[] = [];
    await startFailing(
      (_data, ctx) => {
        signals.push(ctx.signal);
        // The first delivery heeds its signal and then succeeds; the redelivery finishes at once.
        if (signals.length > 1) return undefined;
        return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      },
      // Liveness renewed every 200 ms.
      { claimIdleMs: 600 },
      logger,
    );
    const keys = keysOf(scene.stream, 'c1');
    await pushAll(scene.redis, scene.stream, ['long-job']);
    await waitFor(() => signals.length === 1, { message: 'the handler running' });
    // What another consumer's recovery does once c1's liveness key has lapsed: the processing
    // list's entries back at the head of the list with a delivery counted (so no longer the
    // same value), and c1 out of the registry.
    await scene.redis.lrem(keys.processing, 1, 'long-job');
    await scene.redis.lpush(scene.stream, '\0nrs1:r:1:-:long-job');
    await scene.redis.srem(keys.registry, 'c1');
    await waitFor(() => signals[0]!.aborted, { message: 'the signal aborted at the next liveness renewal' });
    expect(signals[0]!.reason).toBeInstanceOf(LeaseLostError);
    expect((signals[0]!.reason as Error).message).toContain(
      `List "${scene.stream}": an entry being handled was recovered by another consumer`,
    );
    outcomes.push('aborted');
    // The entry is handled again (here by c1 itself, from the head of the list), and not removed twice.
    await waitFor(() => signals.length === 2, { message: 'the recovered entry delivered again' });
    await waitFor(async () => (await scene.redis.llen(keys.processing)) === 0 && (await scene.redis.llen(scene.stream)) === 0, {
      message: 'the redelivery removed from the processing list',
    });
    expect(logger.all()).toContain('was recovered by another consumer');
    expect(outcomes).toEqual(['aborted']);
    expect(await deadLetters()).toEqual([]);
  });
});
