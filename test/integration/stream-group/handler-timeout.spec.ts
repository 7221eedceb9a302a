import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, HandlerTimeoutError, LeaseLostError, type RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { CapturingLogger } from '../../support/logs.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

const SIGNALS = 'SIGNALS';

/** Handlers that never return on their own: they end only when their signal aborts. */
function controllerFor(stream: string) {
  @Controller()
  class Hanging {
    constructor(@Inject(SIGNALS) private readonly signals: AbortSignal[]) {}
    @EventPattern<string>(`stream:${stream}`)
    handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
      this.signals.push(ctx.signal);
      // Never settles: a handler that hangs.
      return new Promise<void>(() => undefined);
    }
  }
  return Hanging;
}

/** Handlers that heed their signal: they settle once it aborts, succeeding or failing as told. */
function heedingController(stream: string, outcome: 'succeed' | 'fail') {
  @Controller()
  class Heeding {
    constructor(@Inject(SIGNALS) private readonly signals: AbortSignal[]) {}
    @EventPattern<string>(`stream:${stream}`)
    handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext) {
      this.signals.push(ctx.signal);
      return new Promise<void>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => (outcome === 'succeed' ? resolve() : reject(new Error('gave up'))));
      });
    }
  }
  return Heeding;
}

describe('handler time limits and ctx.signal', () => {
  const scene = useScene('limit');

  it('fails a delivery past handlerTimeoutMs, aborting its signal, then dead-letters it past maxDeliveries', async () => {
    const signals: AbortSignal[] = [];
    await scene.start(
      [controllerFor(scene.stream)],
      fastOptions({
        group: scene.group,
        consumer: 'c1',
        handlerTimeoutMs: 100,
        maxDeliveries: 2,
        claimIdleMs: 1_000,
        claimIntervalMs: 20,
        retry: { baseDelayMs: 10, jitter: 0 },
      }),
      [{ provide: SIGNALS, useValue: signals }],
    );
    const id = await scene.produce.add('n', '1');
    const dlq = `{${scene.stream}}:dlq`;
    await waitFor(async () => (await scene.redis.xlen(dlq)) === 1, { message: 'dead-lettered after two timed-out deliveries' });
    // Delivered twice, each signal aborted with the time limit as its reason.
    expect(signals).toHaveLength(2);
    for (const signal of signals) {
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(HandlerTimeoutError);
      expect((signal.reason as HandlerTimeoutError).message).toContain(`entry ${id} did not finish within handlerTimeoutMs (100 ms)`);
    }
    const [[, fields]] = (await scene.redis.xrange(dlq, '-', '+')) as [[string, string[]]];
    const record = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) record.set(fields[i]!, fields[i + 1]!);
    expect(record.get(DEAD_LETTER_FIELDS.id)).toBe(id);
    expect(record.get(DEAD_LETTER_FIELDS.deliveries)).toBe('2');
    expect(record.get(DEAD_LETTER_FIELDS.error)).toContain('HandlerTimeoutError');
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
  });

  it('aborts the signal of a handler still running when close() stops waiting, and releases its entry', async () => {
    const signals: AbortSignal[] = [];
    const { app } = await scene.start(
      [controllerFor(scene.stream)],
      fastOptions({ group: scene.group, consumer: 'c1', shutdownTimeoutMs: 100 }),
      [{ provide: SIGNALS, useValue: signals }],
    );
    const id = await scene.produce.add('n', '1');
    await waitFor(() => signals.length === 1, { message: 'the handler running' });
    expect(signals[0]!.aborted).toBe(false);
    await scene.close(app);
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as Error).message).toContain('the server closed before the handler finished');
    // Released: still pending, and claimable by any consumer at once.
    const [pending] = (await scene.redis.xpending(scene.stream, scene.group, 'IDLE', 900, '-', '+', 10)) as Array<[string, string]>;
    expect(pending?.[0]).toBe(id);
  });

  it.each([['succeeds', 'succeed'] as const, ['fails', 'fail'] as const])(
    'aborts the signal when the lease is lost to another consumer, and leaves the entry to it when the handler then %s',
    async (_label, outcome) => {
      const signals: AbortSignal[] = [];
      const logger = new CapturingLogger();
      // Leases are renewed every claimIdleMs / 3.
      await scene.start(
        [heedingController(scene.stream, outcome)],
        fastOptions({ group: scene.group, consumer: 'c1', claimIdleMs: 600, claimIntervalMs: 50 }),
        [{ provide: SIGNALS, useValue: signals }],
        { logger },
      );
      const id = await scene.produce.add('n', '1');
      await waitFor(() => signals.length === 1, { message: 'the handler running' });
      // An operator (or a consumer that took it for dead) claims the entry.
      await scene.redis.xclaim(scene.stream, scene.group, 'intruder', 0, id, 'JUSTID');
      await waitFor(() => signals[0]!.aborted, { message: 'the signal aborted at the next lease renewal' });
      expect(signals[0]!.reason).toBeInstanceOf(LeaseLostError);
      expect((signals[0]!.reason as Error).message).toContain(`entry ${id} is no longer pending on this consumer`);
      await waitFor(() => /no longer pending on this consumer/.test(logger.all()), { message: 'the loss logged' });
      // Neither acked, nor retried, nor dead-lettered, nor taken back: still the intruder's (XCLAIM JUSTID counts no delivery).
      // (Another renewal round passes meanwhile; the handler has long settled.)
      await waitFor(async () => ((await scene.probe.pendingRows())[0]?.[2] ?? 0) >= 400, { message: 'the entry idle on its new owner' });
      expect((await scene.probe.pendingRows()).map(([pendingId, owner, , deliveries]) => [pendingId, owner, deliveries])).toEqual([
        [id, 'intruder', 1],
      ]);
      expect(await scene.redis.exists(`{${scene.stream}}:dlq`)).toBe(0);
    },
  );

  it('without a time limit, leaves the signal alone', async () => {
    const signals: AbortSignal[] = [];
    await scene.start([controllerFor(scene.stream)], fastOptions({ group: scene.group, consumer: 'c1', shutdownTimeoutMs: 100 }), [
      { provide: SIGNALS, useValue: signals },
    ]);
    await scene.produce.add('n', '1');
    await waitFor(() => signals.length === 1, { message: 'the handler running' });
    expect(signals[0]!.aborted).toBe(false);
    expect(await scene.probe.pendingCount()).toBe(1);
  });
});
