import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import type { RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor } from '../../support/wait.js';

const PROBE = 'PROBE';

class Probe {
  calls: string[] = [];
  readonly failed = deferred<string>();
}

type Failure = 'throw' | 'reject' | 'observable-error' | 'observable-after-value';

describe('a failing handler', () => {
  const scene = useScene('fail');

  async function startFailing(failure: Failure, probe: Probe) {
    @Controller()
    class FailingController {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${scene.stream}`)
      handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamsContext): unknown {
        this.p.calls.push(ctx.getMessageId());
        queueMicrotask(() => this.p.failed.resolve(ctx.getMessageId()));
        switch (failure) {
          case 'throw':
            throw new Error('charge declined');
          case 'reject':
            return Promise.reject(new Error('charge declined'));
          case 'observable-error':
            return throwError(() => new Error('charge declined'));
          case 'observable-after-value':
            return new Observable((subscriber) => {
              subscriber.next('partial');
              setImmediate(() => subscriber.error(new Error('charge declined')));
            });
        }
      }
    }
    // A long claimIdleMs keeps the failed entry parked for the whole test.
    await scene.start([FailingController], fastOptions({ group: scene.group, consumer: 'c1', claimIdleMs: 60_000 }), [
      { provide: PROBE, useValue: probe },
    ]);
  }

  it.each<Failure>(['throw', 'reject', 'observable-error', 'observable-after-value'])(
    'that does "%s" leaves the entry pending on its consumer, never acknowledged',
    async (failure) => {
      const probe = new Probe();
      await startFailing(failure, probe);
      const id = await scene.produce.add('n', '1');
      await expect(probe.failed.promise).resolves.toBe(id);
      // The failure is settled once the retry schedule has set the entry's idle time.
      await waitFor(async () => ((await scene.probe.pendingRows())[0]?.[2] ?? 0) > 1_000, {
        message: 'failed entry parked for retry',
      });
      const rows = await scene.probe.pendingRows();
      expect(rows).toHaveLength(1);
      expect(rows[0]![0]).toBe(id);
      expect(rows[0]![1]).toBe('c1');
      expect(rows[0]![3]).toBe(1);
      expect(await scene.probe.pendingCount()).toBe(1);
      expect(probe.calls).toEqual([id]);
    },
  );
});
