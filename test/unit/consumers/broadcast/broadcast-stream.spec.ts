import { Logger } from '@nestjs/common';
import type { RedisCommands } from '../../../../src/connection/redis-client.js';
import { createBroadcastScope } from '../../../../src/consumers/broadcast/broadcast-scope.js';
import { BroadcastStream } from '../../../../src/consumers/broadcast/broadcast-stream.js';
import type { StreamTip } from '../../../../src/consumers/broadcast/stream-tip.js';
import { Slots } from '../../../../src/delivery/slots.js';
import { NOOP_DELIVERY_TELEMETRY } from '../../../../src/telemetry/telemetry.js';

/** A logger that keeps its warnings. */
class Warnings extends Logger {
  readonly lines: string[] = [];
  override warn(message: unknown): void {
    this.lines.push(String(message));
  }
}

function stream(position: string, tip: StreamTip, concurrency = 10) {
  const logger = new Warnings();
  const slots = new Slots(concurrency);
  const scope = createBroadcastScope({
    stream: 'prices',
    pattern: 'stream:prices',
    consumer: 'c1',
    options: { batchSize: 5, blockMs: 100, concurrency, start: 'latest', envelope: undefined },
    // Never used here: nothing is delivered.
    commands: {} as RedisCommands,
    slots,
    invoke: () => Promise.resolve(),
    deserializer: undefined,
    argoEvents: undefined,
    logger,
    telemetry: NOOP_DELIVERY_TELEMETRY,
  });
  let changes = 0;
  const member = new BroadcastStream(scope, position, tip, () => undefined);
  member.start(() => {
    changes += 1;
  });
  return { member, slots, logger, changes: () => changes };
}

describe('a broadcast stream', () => {
  it('moves its position to the last entry a read returned, and reserves no more than its free slots', () => {
    const { member, slots } = stream('5-0', { lastId: '5-0' }, 3);
    expect(member.canRead).toBe(true);
    member.reserve(3);
    expect(member.canRead).toBe(false);
    member.settle(3, [
      ['5-9', []],
      ['5-10', []],
    ]);
    expect(member.cursor).toBe('5-10');
    // Two entries keep their slots until their handlers end; the third came back.
    expect(slots.free).toBe(1);
    expect(member.isCaughtUp).toBe(true);
  });

  it('has a backlog when a read came back full', () => {
    const { member } = stream('0-0', 'missing');
    member.reserve(2);
    member.settle(2, [
      ['1-1', []],
      ['1-2', []],
    ]);
    expect(member.isCaughtUp).toBe(false);
  });

  it('restarts from 0-0 at once when a look finds it recreated between reads', () => {
    const { member, logger, changes } = stream('9-0', { lastId: '9-0' });
    expect(member.looked({ lastId: '3-0' })).toBe('recreated');
    expect(member.cursor).toBe('0-0');
    expect(changes()).toBe(1);
    expect(logger.lines[0]).toContain('Broadcast stream "prices": the stream was deleted and created again');
  });

  it('restarts when the blocked read it was in comes back empty, not when it brought entries', () => {
    const first = stream('9-0', { lastId: '9-0' });
    first.member.reserve(5);
    expect(first.member.looked('missing')).toBe('vanished');
    expect(first.member.cursor).toBe('9-0');
    first.member.settle(5, []);
    expect(first.member.cursor).toBe('0-0');

    const second = stream('9-0', { lastId: '9-0' });
    second.member.reserve(5);
    second.member.looked({ lastId: '1-0' });
    second.member.settle(5, [['10-0', []]]);
    expect(second.member.cursor).toBe('10-0');
  });

  it('looks only at streams that read nothing since the last round', () => {
    const { member } = stream('1-0', { lastId: '1-0' });
    expect(member.isDueForLook()).toBe(true);
    member.reserve(5);
    member.settle(5, [['2-0', []]]);
    expect(member.isDueForLook()).toBe(false);
    expect(member.isDueForLook()).toBe(true);
  });

  it('keeps reading a stream trimmed or XDELed below its position (its last-generated-id stays)', () => {
    const { member } = stream('7-0', { lastId: '7-0' });
    expect(member.looked({ lastId: '7-0' })).toBe('same');
    expect(member.cursor).toBe('7-0');
  });
});
