import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
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

/** A server and a client of one transport, in this process. */
interface Sides {
  readonly app: INestMicroservice;
  readonly client: ClientProxy;
}

async function sidesOf(job: RpcJob): Promise<Sides> {
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
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(RpcModule, { ...options, logger: ['error'] });
  await app.listen();
  await client.connect();
  return { app, client };
}

/** Sends with `inFlight` requests outstanding until `untilMs` (performance.now); returns the round trips done. */
async function keepInFlight(client: ClientProxy, inFlight: number, untilMs: number): Promise<number> {
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < untilMs) {
      await lastValueFrom(client.send(PATTERN, makePayload(done)));
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done;
}

/** Sends `rate` requests a second for `durationMs`; returns each round trip's time in ms. */
function atRate(client: ClientProxy, rate: number, durationMs: number): Promise<number[]> {
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
        lastValueFrom(client.send(PATTERN, makePayload(sent))).then(() => {
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
 * latency at a fixed `rate`, after a warm-up.
 */
export async function runRpc(job: RpcJob): Promise<RunResult> {
  const { app, client } = await sidesOf(job);
  await tell({ type: 'ready' });
  await waitForGo();
  await keepInFlight(client, job.inFlight, performance.now() + WARM_UP_MS);
  let result: RunResult;
  if (job.mode === 'throughput') {
    const t0 = performance.now();
    const done = await keepInFlight(client, job.inFlight, t0 + job.durationMs);
    const elapsedMs = performance.now() - t0;
    result = { messages: done, elapsedMs, rate: (done * 1000) / elapsedMs, timedOut: false };
  } else {
    const t0 = performance.now();
    const times = await atRate(client, job.rate, job.durationMs);
    const elapsedMs = performance.now() - t0;
    result = { messages: times.length, elapsedMs, rate: (times.length * 1000) / elapsedMs, timedOut: false, latency: summarize(times) };
  }
  await client.close();
  await app.close();
  return result;
}
