import type { RedisStreamsContext } from '../../src/index.js';

/** One broadcast handler call, as an instance saw it. */
export interface BroadcastCall {
  readonly stream: string;
  readonly id: string;
  readonly data: unknown;
  readonly ctx: RedisStreamsContext;
}

/** What one app instance's broadcast handlers saw, in order. */
export class BroadcastCalls {
  readonly calls: BroadcastCall[] = [];

  /** Records a call; a handler's first step. */
  add(stream: string, data: unknown, ctx: RedisStreamsContext): void {
    this.calls.push({ stream, id: ctx.getMessageId(), data, ctx });
  }

  /** The ids handled on `stream`, in the order the handler was called. */
  idsOf(stream: string): string[] {
    return this.calls.filter((call) => call.stream === stream).map((call) => call.id);
  }

  /** How many calls `stream` had. */
  countOf(stream: string): number {
    return this.idsOf(stream).length;
  }
}

/** The extras of a broadcast handler in tests, over `extra`. */
export function broadcastExtras(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { broadcast: true, ...extra };
}
