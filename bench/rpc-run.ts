import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { makePayload, type BenchPayload } from './payload.js';
import { tell, waitForGo, type LatencySummary, type RpcJob, type RunResult } from './protocol.js';

/** The pattern both transports answer: a stream for ours, a channel for Transport.REDIS. */
const PATTERN = 'stream:bench:rpc';
/** Round trips before the measured window, not counted (connections, JIT, the group lookup). */
const WARM_UP_MS = 500;

/** The handler both contenders run: returns the request's payload. */
@Controller()
class RpcController {
  @MessagePattern(PATTERN)
  answer(@Payload() payload: BenchPayload): Promise<BenchPayload> {
    return Promise.resolve(payload);
  }
}

@Module({ controllers: [RpcController] })
class RpcModule {}

/** Both sides of one contender, in this process: `send` makes one round trip. */
interface Sides {
  readonly send: (payload: BenchPayload) => Promise<unknown>;
  readonly close: () => Promise<void>;
}

async function sidesOf(job: RpcJob): Promise<Sides> {
  if (job.contender === 'rpc-raw-streams') return rawStreams(job.port);
  if (job.contender === 'rpc-raw-pubsub') return rawPubSub(job.port);
  return nestSides(job);
}

/** A NestJS microservice and a client of one transport. */
async function nestSides(job: RpcJob): Promise<Sides> {
  const connection = { host: '127.0.0.1', port: job.port };
  let options: MicroserviceOptions;
  let client: ClientProxy;
  if (job.contender === 'rpc-ours') {
    const { RedisStreamsClient, RedisStreamsServer } = await import('../src/index.js');
    options = { strategy: new RedisStreamsServer({ connection, group: 'bench-rpc', consumer: 'rpc-1' }) };
    client = new RedisStreamsClient({ connection });
  } else {
    options = { transport: Transport.REDIS, options: connection };
    client = ClientProxyFactory.create({ transport: Transport.REDIS, options: connection });
  }
  const app: INestMicroservice = await NestFactory.createMicroservice<MicroserviceOptions>(RpcModule, { ...options, logger: ['error'] });
  await app.listen();
  await client.connect();
  return {
    send: (payload) => lastValueFrom(client.send(PATTERN, payload)),
    close: async () => {
      await client.close();
      await app.close();
    },
  };
}

/** Correlation ids of the raw loops. */
let nextId = 0;

/**
 * The streams protocol by hand, without NestJS or our transport: what any
 * request-reply over streams costs at least. The "server" reads requests with
 * a blocking XREADGROUP and answers each with an XADD to the reply stream,
 * then XACKs it; the "client" XADDs requests and reads replies with a
 * blocking XREAD. Payloads are JSON-encoded and decoded on both sides.
 */
async function rawStreams(port: number): Promise<Sides> {
  const [requests, replies] = ['bench:raw:rq', 'bench:raw:rp'];
  const commands = new Redis({ port, host: '127.0.0.1' });
  const serverRead = new Redis({ port, host: '127.0.0.1' });
  const serverCommands = new Redis({ port, host: '127.0.0.1' });
  const clientRead = new Redis({ port, host: '127.0.0.1' });
  await commands.del(requests, replies);
  await commands.xgroup('CREATE', requests, 'g', '$', 'MKSTREAM');
  let lastReply = (await commands.xadd(replies, '*', 'created', '1')) ?? '0-0';
  const waiting = new Map<string, (value: unknown) => void>();
  let isStopping = false;
  type Read = Array<[string, Array<[string, string[]]>]> | null;
  const serve = async (): Promise<void> => {
    while (!isStopping) {
      const read = (await serverRead.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'BLOCK', 1_000, 'STREAMS', requests, '>')) as Read;
      for (const [, entries] of read ?? []) {
        for (const [id, fields] of entries) {
          const answer = JSON.stringify(JSON.parse(fields[1]!));
          void serverCommands.xadd(replies, '*', 'id', fields[3]!, 'data', answer).then(() => serverCommands.xack(requests, 'g', id));
        }
      }
    }
  };
  const listen = async (): Promise<void> => {
    while (!isStopping) {
      const read: Read = await clientRead.xread('COUNT', 1_000, 'BLOCK', 1_000, 'STREAMS', replies, lastReply);
      for (const [, entries] of read ?? []) {
        for (const [id, fields] of entries) {
          lastReply = id;
          const found = waiting.get(fields[1]!);
          waiting.delete(fields[1]!);
          found?.(JSON.parse(fields[3]!));
        }
      }
    }
  };
  const loops = [serve(), listen()].map((loop) => loop.catch(() => undefined));
  return {
    send: (payload) =>
      new Promise((resolve) => {
        const id = String((nextId += 1));
        waiting.set(id, resolve);
        void commands.xadd(requests, '*', 'data', JSON.stringify(payload), 'id', id);
      }),
    close: async () => {
      isStopping = true;
      for (const connection of [serverRead, clientRead]) connection.disconnect();
      await Promise.all(loops);
      await commands.quit();
      await serverCommands.quit();
    },
  };
}

/** The same over pub/sub: each request and each reply one PUBLISH. */
async function rawPubSub(port: number): Promise<Sides> {
  const [requests, replies] = ['bench:raw:rq', 'bench:raw:rp'];
  const publisher = new Redis({ port, host: '127.0.0.1' });
  const subscriber = new Redis({ port, host: '127.0.0.1' });
  const serverPublisher = new Redis({ port, host: '127.0.0.1' });
  const serverSubscriber = new Redis({ port, host: '127.0.0.1' });
  await subscriber.subscribe(replies);
  await serverSubscriber.subscribe(requests);
  const waiting = new Map<string, (value: unknown) => void>();
  serverSubscriber.on('message', (_channel: string, message: string) => {
    const { id, data } = JSON.parse(message) as { id: string; data: unknown };
    void serverPublisher.publish(replies, JSON.stringify({ id, data }));
  });
  subscriber.on('message', (_channel: string, message: string) => {
    const { id, data } = JSON.parse(message) as { id: string; data: unknown };
    const found = waiting.get(id);
    waiting.delete(id);
    found?.(data);
  });
  return {
    send: (payload) =>
      new Promise((resolve) => {
        const id = String((nextId += 1));
        waiting.set(id, resolve);
        void publisher.publish(requests, JSON.stringify({ id, data: payload }));
      }),
    close: async () => {
      for (const connection of [publisher, subscriber, serverPublisher, serverSubscriber]) await connection.quit();
    },
  };
}

/** Sends with `inFlight` requests outstanding until `untilMs` (performance.now); returns the round trips done. */
async function keepInFlight(sides: Sides, inFlight: number, untilMs: number): Promise<number> {
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < untilMs) {
      await sides.send(makePayload(done));
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done;
}

/** Sends `rate` requests a second for `durationMs`; returns each round trip's time in ms. */
function atRate(sides: Sides, rate: number, durationMs: number): Promise<number[]> {
  const total = Math.round((rate * durationMs) / 1000);
  const intervalMs = 1000 / rate;
  const times: number[] = [];
  const t0 = performance.now();
  let sent = 0;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
      while (sent < due) {
        const started = performance.now();
        sent += 1;
        sides.send(makePayload(sent)).then(() => {
          times.push(performance.now() - started);
          if (times.length === total) resolve(times);
        }, reject);
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, samples: sorted.length };
}

/**
 * Request-reply, one transport, server and client in this process: round
 * trips per second with `inFlight` requests outstanding, or the round-trip
 * latency at a fixed `rate`, after a warm-up. A latency run then settles at
 * the rate for `settleMs` before its window: right after the switch from
 * 100 requests in flight to 1,000 a second, V8 deoptimizes and recompiles
 * code shaped by the first load (measured: ~90 TurboFan compilations, ~230 ms
 * of compile time in the next 5 s for ours, ~50 and ~120 ms for NestJS'),
 * on background threads that the 2 cores share with Redis, and the slowest
 * requests cluster in those first seconds. The settling window's own
 * latency is reported next to the measured one.
 */
export async function runRpc(job: RpcJob): Promise<RunResult> {
  const sides = await sidesOf(job);
  await tell({ type: 'ready' });
  await waitForGo();
  await keepInFlight(sides, job.inFlight, performance.now() + WARM_UP_MS);
  let result: RunResult;
  if (job.mode === 'throughput') {
    const t0 = performance.now();
    const done = await keepInFlight(sides, job.inFlight, t0 + job.durationMs);
    const elapsedMs = performance.now() - t0;
    result = { messages: done, elapsedMs, rate: (done * 1000) / elapsedMs, timedOut: false };
  } else {
    const settling = job.settleMs > 0 ? await atRate(sides, job.rate, job.settleMs) : [];
    const t0 = performance.now();
    const times = await atRate(sides, job.rate, job.durationMs);
    const elapsedMs = performance.now() - t0;
    result = {
      messages: times.length,
      elapsedMs,
      rate: (times.length * 1000) / elapsedMs,
      timedOut: false,
      latency: summarize(times),
      ...(settling.length === 0 ? {} : { settling: summarize(settling) }),
    };
  }
  await sides.close();
  return result;
}
