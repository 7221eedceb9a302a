import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Cluster } from 'ioredis';
import type { RedisStreamsContext, RedisStreamsServerOptions } from '../../src/index.js';
import { keySlot } from '../../src/routing/cluster-slot.js';
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
