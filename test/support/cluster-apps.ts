import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Cluster } from 'ioredis';
import type { RedisStreamsContext, RedisStreamsServerOptions } from '../../src/index.js';
import { keySlot } from '../../src/routing/hash-slot.js';
import type { LocalCluster } from './cluster.js';
import { uniqueName } from './redis.js';

/** One handler call, as the recording controller saw it. */
export interface ClusterCall {
  readonly stream: string;
  readonly id: string;
  readonly deliveries: number;
  readonly consumer: string;
  readonly data: unknown;
}

/** What a recording handler does with a call; throwing fails it. */
export type ClusterBehaviour = (call: ClusterCall) => Promise<void> | void;

/** The calls of a recording controller, and what it does with each. */
export class ClusterCalls {
  readonly calls: ClusterCall[] = [];
  constructor(public behaviour: ClusterBehaviour = () => undefined) {}

  /** Calls of one stream. */
  of(stream: string): ClusterCall[] {
    return this.calls.filter((call) => call.stream === stream);
  }

  /** The distinct `n` of the payloads handled without throwing, per stream. */
  readonly succeeded = new Map<string, Set<number>>();
}

const CALLS = 'CLUSTER_CALLS';

/** A controller with one handler for all `streams`, recording into a {@link ClusterCalls} provider. */
export function recordingController(streams: readonly string[], extras: Record<string, unknown> = {}): Type<unknown> {
  @Controller()
  class RecordingHandler {
    constructor(@Inject(CALLS) private readonly record: ClusterCalls) {}

    @EventPattern(streams.map((stream) => `stream:${stream}`), extras)
    async handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
      const call: ClusterCall = {
        stream: ctx.getStream(),
        id: ctx.getMessageId(),
        deliveries: ctx.getDeliveryCount(),
        consumer: ctx.getConsumer(),
        data,
      };
      this.record.calls.push(call);
      await this.record.behaviour(call);
      const n = (data as { n?: unknown } | null)?.n;
      if (typeof n === 'number') {
        const seen = this.record.succeeded.get(call.stream) ?? new Set<number>();
        seen.add(n);
        this.record.succeeded.set(call.stream, seen);
      }
    }
  }
  return RecordingHandler;
}

/** The provider a {@link recordingController} records into. */
export function callsProvider(calls: ClusterCalls): { provide: string; useValue: ClusterCalls } {
  return { provide: CALLS, useValue: calls };
}

/** Server options on a cluster that keep the suite fast, over `overrides`. */
export function clusterServerOptions(
  cluster: LocalCluster,
  overrides: Partial<RedisStreamsServerOptions> & { group: string },
): RedisStreamsServerOptions {
  return {
    connection: { cluster: cluster.addresses },
    blockMs: 500,
    claimIntervalMs: 100,
    shutdownTimeoutMs: 5_000,
    ...overrides,
  };
}

/**
 * `perMaster` stream names (with a hash tag each, so that `<stream>:dlq`
 * shares the slot) on each current master, every one in a slot of its own.
 *
 * @returns the streams, and the master port serving each
 */
export async function streamsOnMasters(cluster: LocalCluster, perMaster: number, prefix: string): Promise<Map<string, number>> {
  const masters = await cluster.masters();
  const wanted = new Map(masters.map((port) => [port, perMaster]));
  const streams = new Map<string, number>();
  const slots = new Set<number>();
  while ([...wanted.values()].some((left) => left > 0)) {
    const stream = `{${uniqueName(prefix)}}:events`;
    const slot = keySlot(stream);
    if (slots.has(slot)) continue;
    const master = await cluster.masterOf(slot);
    const left = wanted.get(master) ?? 0;
    if (left === 0) continue;
    wanted.set(master, left - 1);
    slots.add(slot);
    streams.set(stream, master);
  }
  return streams;
}

/** A stream name (hash-tagged) whose slot is served by the master on `port`. */
export async function streamOn(cluster: LocalCluster, port: number, prefix: string): Promise<string> {
  for (;;) {
    const stream = `{${uniqueName(prefix)}}:events`;
    if ((await cluster.masterOf(keySlot(stream))) === port) return stream;
  }
}

/** XPENDING summary count of a group on a stream, through a cluster client. */
export async function pendingOn(admin: Cluster, stream: string, group: string): Promise<number> {
  const summary = (await admin.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

/** The `CLIENT LIST` rows of one node whose connection name is `name`, as field maps. */
export async function clientsNamed(cluster: LocalCluster, port: number, name: string): Promise<Array<Record<string, string>>> {
  const list = (await cluster.node(port).client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(' ')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      ),
    )
    .filter((client) => client.name === name);
}

/** A hash-tagged stream name in exactly `slot` (found by trying tags). */
export function streamInSlot(slot: number, prefix: string): string {
  const base = uniqueName(prefix);
  for (let i = 0; ; i += 1) {
    const stream = `{${base}-${i}}:events`;
    if (keySlot(stream) === slot) return stream;
  }
}

/**
 * Emits `{ n }` for n = 0, 1, 2, … to each stream through `client`, a few at a
 * time, until {@link stop}; an emit that fails (a node lost mid-command) is
 * sent again, so every `n` it reports is in Redis at least once.
 */
export class FlowingProducer {
  private isStopped = false;
  private readonly done: Promise<void>;
  /** Per stream, the n values Redis has acknowledged. */
  readonly written = new Map<string, Set<number>>();
  /** Emits that failed and were sent again. */
  failures = 0;

  constructor(
    private readonly emit: (stream: string, payload: { n: number }) => Promise<unknown>,
    streams: readonly string[],
    private readonly perTickPerStream = 2,
    private readonly tickMs = 10,
  ) {
    this.done = Promise.all(streams.map((stream) => this.run(stream))).then(() => undefined);
  }

  /** How many entries are written, over every stream. */
  get count(): number {
    let total = 0;
    for (const values of this.written.values()) total += values.size;
    return total;
  }

  /** Stops producing and waits for the emits under way. */
  async stop(): Promise<void> {
    this.isStopped = true;
    await this.done;
  }

  private async run(stream: string): Promise<void> {
    const written = new Set<number>();
    this.written.set(stream, written);
    let next = 0;
    while (!this.isStopped) {
      const batch = Array.from({ length: this.perTickPerStream }, () => next++);
      await Promise.all(batch.map((n) => this.emitUntilWritten(stream, n, written)));
      // Paces production so that it spans what the test does meanwhile.
      await new Promise((resolve) => setTimeout(resolve, this.tickMs));
    }
  }

  private async emitUntilWritten(stream: string, n: number, written: Set<number>): Promise<void> {
    for (;;) {
      try {
        await this.emit(stream, { n });
        written.add(n);
        return;
      } catch {
        this.failures += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}
