import { backoffDelayMs } from '../../../src/options/backoff.js';

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
