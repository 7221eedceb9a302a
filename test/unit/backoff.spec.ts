import { backoffDelayMs } from '../../src/server/backoff.js';
import { Slots } from '../../src/server/slots.js';

const retry = { strategy: 'exponential' as const, baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 };

describe('retry backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, retry))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('stays at the base when fixed', () => {
    expect([1, 5].map((n) => backoffDelayMs(n, { ...retry, strategy: 'fixed' }))).toEqual([100, 100]);
  });

  it('spreads by jitter in both directions without passing the cap', () => {
    const jittered = { ...retry, jitter: 0.5 };
    expect(backoffDelayMs(1, jittered, () => 0)).toBe(50);
    expect(backoffDelayMs(1, jittered, () => 0.999999)).toBe(150);
    expect(backoffDelayMs(10, jittered, () => 0.999999)).toBe(1000);
  });

  it('does not overflow for huge attempt numbers', () => {
    expect(backoffDelayMs(10_000, retry)).toBe(1000);
  });
});

describe('handler slots', () => {
  it('never hands out more than its capacity and wakes waiters on release', async () => {
    const slots = new Slots(2);
    expect(slots.take(5)).toBe(2);
    expect(slots.free).toBe(0);
    let woken = false;
    const waiting = slots.whenFree().then(() => {
      woken = true;
    });
    await Promise.resolve();
    expect(woken).toBe(false);
    slots.release();
    await waiting;
    expect(woken).toBe(true);
    expect(slots.take(1)).toBe(1);
  });

  it('reports idle once every slot is back', async () => {
    const slots = new Slots(3);
    slots.take(2);
    const idle = slots.whenIdle();
    slots.release();
    slots.release();
    await expect(idle).resolves.toBeUndefined();
  });
});
