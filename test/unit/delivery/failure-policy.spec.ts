import { judgeDelivery, judgeFailure, retryDelayMs, type FailurePolicy } from '../../../src/delivery/failure-policy.js';
import { UnrecoverableError } from '../../../src/index.js';
import { UNRECOVERABLE_MARKER } from '../../../src/errors/unrecoverable.error.js';

const policy: FailurePolicy = {
  maxDeliveries: 3,
  retry: { strategy: 'exponential', baseDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 },
};
const middle = () => 0.5;
const failed = (error: unknown, recordedError?: unknown) => ({ error, recordedError });

describe('failure policy', () => {
  it('retries after the backoff delay while deliveries are left', () => {
    expect(judgeFailure(1, failed(new Error('down')), policy, middle)).toEqual({
      action: 'retry',
      delayMs: 100,
      reason: 'Error: down',
    });
    expect(judgeFailure(2, failed(new Error('down')), policy, middle)).toMatchObject({ action: 'retry', delayMs: 200 });
  });

  it('spreads the delay with the injected random source', () => {
    expect(judgeFailure(1, failed(new Error('down')), policy, () => 0)).toMatchObject({ delayMs: 50 });
    expect(judgeFailure(1, failed(new Error('down')), policy, () => 0.999999)).toMatchObject({ delayMs: 150 });
  });

  it('dead-letters a failure on the last delivery maxDeliveries allows, with the error as the reason', () => {
    expect(judgeFailure(3, failed(new Error('still down')), policy, middle)).toEqual({
      action: 'dead-letter',
      reason: 'Error: still down',
    });
    expect(judgeFailure(4, failed('gone'), policy, middle)).toEqual({ action: 'dead-letter', reason: 'gone' });
  });

  it('dead-letters an unrecoverable error at once, whether thrown or recorded', () => {
    const unrecoverable = new UnrecoverableError('order has no sku');
    expect(judgeFailure(1, failed(unrecoverable), policy, middle)).toEqual({
      action: 'dead-letter',
      reason: 'unrecoverable: UnrecoverableError: order has no sku',
    });
    // What Nest's exception layer hands on: a plain object carrying the marker.
    const replaced = { status: 'error', message: 'order has no sku', kind: UNRECOVERABLE_MARKER };
    expect(judgeFailure(1, failed(replaced), policy, middle)).toEqual({
      action: 'dead-letter',
      reason: 'unrecoverable: order has no sku',
    });
    expect(judgeFailure(1, failed(new Error('Internal server error'), unrecoverable), policy, middle)).toEqual({
      action: 'dead-letter',
      reason: 'unrecoverable: UnrecoverableError: order has no sku',
    });
  });

  it("names the handler's recorded error rather than the one Nest replaced it with", () => {
    const verdict = judgeFailure(
      1,
      failed({ status: 'error', message: 'Internal server error' }, new TypeError('bad sku')),
      policy,
      middle,
    );
    expect(verdict).toEqual({ action: 'retry', delayMs: 100, reason: 'TypeError: bad sku' });
  });

  it('lets the handler run up to maxDeliveries deliveries', () => {
    expect([1, 2, 3].map((deliveries) => judgeDelivery(deliveries, policy))).toEqual([undefined, undefined, undefined]);
  });

  it('dead-letters an entry delivered again after its last allowed delivery never settled', () => {
    expect(judgeDelivery(4, policy)).toEqual({
      action: 'dead-letter',
      reason: 'delivered 4 times, more than maxDeliveries (3); its consumer stopped or hung before settling it',
    });
    expect(judgeDelivery(2, { ...policy, maxDeliveries: 1 })).toMatchObject({ action: 'dead-letter' });
  });

  it('agrees with judgeFailure on where the deliveries end', () => {
    for (let maxDeliveries = 1; maxDeliveries <= 5; maxDeliveries += 1) {
      const limited = { ...policy, maxDeliveries };
      for (let deliveries = 1; deliveries <= 7; deliveries += 1) {
        const lastFailure = judgeFailure(deliveries, failed(new Error('x')), limited, middle).action === 'dead-letter';
        const nextRefused = judgeDelivery(deliveries + 1, limited) !== undefined;
        expect(nextRefused).toBe(lastFailure);
      }
    }
  });

  it('gives a requested retry its delay, capped at maxDelayMs, or else the backoff delay', () => {
    expect(retryDelayMs(1, 250, policy, middle)).toBe(250);
    expect(retryDelayMs(1, 0, policy, middle)).toBe(0);
    expect(retryDelayMs(1, 5000, policy, middle)).toBe(1000);
    expect(retryDelayMs(1, Infinity, policy, middle)).toBe(1000);
    expect(retryDelayMs(3, undefined, policy, middle)).toBe(400);
  });
});
