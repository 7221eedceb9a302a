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

  it('serves every waiting request with one timer, failing each as its own time runs out', () => {
    const { routes, pending, seen, callback } = table(1_000);
    pending.add('a', 'orders', callback);
    jest.advanceTimersByTime(400);
    pending.add('b', 'orders', callback);
    pending.add('c', 'orders', callback);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(599);
    expect(seen).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(seen).toHaveLength(1);
    expect(routes.has('a')).toBe(false);
    pending.deliver('b', { response: 'b', isDisposed: true });
    jest.advanceTimersByTime(399);
    expect(seen).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(seen).toEqual([
      { err: new Error('timed out on orders'), isDisposed: true },
      { response: 'b', isDisposed: true },
      { err: new Error('timed out on orders'), isDisposed: true },
    ]);
    expect(routes.size).toBe(0);
    expect(pending.size).toBe(0);
  });

  it('keeps timing requests added after the others ran out, and leaves no timer running once none waits', () => {
    const { pending, seen, callback } = table(500);
    pending.add('a', 's', callback);
    jest.advanceTimersByTime(500);
    expect(jest.getTimerCount()).toBe(0);
    pending.add('b', 's', callback);
    const teardown = pending.add('c', 's', callback);
    teardown();
    jest.advanceTimersByTime(500);
    expect(seen.map((packet) => packet.err !== undefined)).toEqual([true, true]);
    expect(pending.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('drops only its own route when a request is forgotten, and ignores a second teardown', () => {
    const { routes, pending, seen, callback } = table();
    const teardown = pending.add('a', 's', callback);
    teardown();
    teardown();
    const other = (packet: WritePacket) => seen.push({ ...packet, response: 'other' });
    routes.set('a', other);
    pending.deliver('a', { response: 1, isDisposed: true });
    expect(seen).toEqual([{ response: 'other', isDisposed: true }]);
  });
});
