import { Logger } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import { InvalidOptionsError } from '../../../src/index.js';
import { resolveServerOptions } from '../../../src/options/resolve-server-options.js';
import { bindStreams } from '../../../src/server/stream-binding.js';

const server = resolveServerOptions({ group: 'g' });
const logger = new Logger('test');

/** A Nest event handler with extras, chained to `next` as Nest chains the handlers of one pattern. */
function handler(extras: Record<string, unknown> | undefined, next?: MessageHandler): MessageHandler {
  const fn = (() => Promise.resolve(undefined)) as unknown as MessageHandler;
  fn.isEventHandler = true;
  if (extras !== undefined) fn.extras = extras;
  if (next !== undefined) fn.next = next;
  return fn;
}

function bind(entries: Array<[string, MessageHandler]>) {
  return bindStreams(new Map(entries), server, logger);
}

describe('binding handlers by mode', () => {
  it('binds broadcast handlers apart from the group, with their own options', () => {
    const bound = bind([
      ['stream:orders', handler({ concurrency: 5 })],
      ['stream:prices', handler({ broadcast: true, startFrom: 'beginning' })],
      ['stream:audit', handler({ broadcast: false })],
    ]);
    expect(bound.group.map((b) => b.stream)).toEqual(['orders', 'audit']);
    expect(bound.broadcast.map((b) => b.stream)).toEqual(['prices']);
    expect(bound.broadcast[0]!.options.start).toEqual({ after: '0-0' });
  });

  it('binds a pattern whose handlers all say broadcast: true as one broadcast stream', () => {
    const bound = bind([['stream:prices', handler({ broadcast: true }, handler({ broadcast: true, concurrency: 2 }))]]);
    expect(bound.broadcast).toHaveLength(1);
    expect(bound.broadcast[0]!.options.concurrency).toBe(2);
  });

  it('refuses handlers of one pattern that disagree about broadcast', () => {
    expect(() => bind([['stream:prices', handler({ broadcast: true }, handler(undefined))]])).toThrow(
      expect.objectContaining({ option: '@EventPattern("stream:prices") extras: broadcast' }) as Error,
    );
    expect(() => bind([['stream:prices', handler({ broadcast: true }, handler({ broadcast: false }))]])).toThrow(InvalidOptionsError);
  });

  it("refuses startFrom on a group's handler, naming the server option instead", () => {
    expect(() => bind([['stream:orders', handler({ startFrom: 'beginning' })]])).toThrow(/server option startFrom/);
  });
});
