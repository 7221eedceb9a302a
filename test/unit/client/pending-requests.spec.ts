import { jest } from '@jest/globals';
import type { WritePacket } from '@nestjs/microservices';
import { PendingRequests, type ReplyCallback } from '../../../src/client/pending-requests.js';

describe('pending requests', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function table(timeoutMs = 1_000) {
    const routes = new Map<string, ReplyCallback>();
    const pending = new PendingRequests(routes, timeoutMs, (stream) => new Error(`timed out on ${stream}`));
    const seen: WritePacket[] = [];
    return { routes, pending, seen, callback: (packet: WritePacket) => seen.push(packet) };
  }

  it('routes replies until the last one, then forgets the request', () => {
    const { routes, pending, seen, callback } = table();
    pending.add('a', 's', callback);
    pending.deliver('a', { response: 1 });
    pending.deliver('a', { response: 2, isDisposed: true });
    pending.deliver('a', { response: 3 });
    expect(seen).toEqual([{ response: 1 }, { response: 2, isDisposed: true }]);
    expect(routes.size).toBe(0);
  });

  it('fails a request whose time ran out, and drops its late reply', () => {
    const { routes, pending, seen, callback } = table(500);
    pending.add('a', 'orders', callback);
    jest.advanceTimersByTime(500);
    pending.deliver('a', { response: 1, isDisposed: true });
    expect(seen).toEqual([{ err: new Error('timed out on orders'), isDisposed: true }]);
    expect(routes.size).toBe(0);
  });

  it('forgets a request on teardown, and fails all that wait', () => {
    const { routes, pending, seen, callback } = table();
    const teardown = pending.add('a', 's', callback);
    pending.add('b', 's', callback);
    teardown();
    pending.failAll(new Error('closed'));
    jest.advanceTimersByTime(5_000);
    expect(seen).toEqual([{ err: new Error('closed'), isDisposed: true }]);
    expect(routes.size).toBe(0);
  });
});
