import { nowMs, type BenchPayload } from './payload.js';
import type { LatencySummary } from './protocol.js';

/** Latency samples from messages numbered below this are warm-up and dropped. */
const WARMUP_MESSAGES = 2_500;

/**
 * What every contender's handler calls, once per message, at handler start:
 * counts messages and, for payloads carrying a send time, records latency.
 */
export class Probe {
  /** Messages seen. */
  count = 0;
  private readonly latencies: Float64Array;
  private samples = 0;
  private target = Number.POSITIVE_INFINITY;
  private onTarget: (() => void) | undefined;
  private reachedAt = 0;
  /** When (performance.now) the last message was seen. */
  lastAt = 0;

  constructor(
    maxSamples: number,
    private readonly warmup = WARMUP_MESSAGES,
  ) {
    this.latencies = new Float64Array(Math.max(1, maxSamples));
  }

  /** Called by the handler. */
  record(payload: BenchPayload): void {
    this.count += 1;
    this.lastAt = performance.now();
    if (payload.t > 0 && payload.n >= this.warmup && this.samples < this.latencies.length) {
      this.latencies[this.samples] = nowMs() - payload.t;
      this.samples += 1;
    }
    if (this.count === this.target) {
      this.reachedAt = performance.now();
      this.onTarget?.();
    }
  }

  /** Resolves with the time (performance.now) the count reached `target`, or undefined after `timeoutMs`. */
  whenCount(target: number, timeoutMs: number): Promise<number | undefined> {
    if (this.count >= target) return Promise.resolve(performance.now());
    this.target = target;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), Math.max(0, timeoutMs));
      this.onTarget = () => {
        clearTimeout(timer);
        resolve(this.reachedAt);
      };
    });
  }

  /** Percentiles of the recorded latencies, or undefined when none were recorded. */
  latency(): LatencySummary | undefined {
    if (this.samples === 0) return undefined;
    const sorted = this.latencies.slice(0, this.samples).sort();
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, samples: this.samples };
  }
}

/**
 * Samples the process' resident set size every `intervalMs` and keeps the
 * peak, with the peak size of the V8 heap (heapTotal) beside it, which tells
 * JavaScript objects apart from everything else in the RSS.
 */
export class RssSampler {
  private peak = 0;
  private heapPeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Peak RSS in MiB so far. */
  get peakMb(): number {
    this.sample();
    return this.peak / 1_048_576;
  }

  /** Peak V8 heap size (heapTotal) in MiB so far. */
  get heapPeakMb(): number {
    this.sample();
    return this.heapPeak / 1_048_576;
  }

  /** Restarts the peaks from now; returns the current RSS in MiB. */
  reset(): number {
    this.peak = 0;
    this.heapPeak = 0;
    this.sample();
    return this.peak / 1_048_576;
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const { rss, heapTotal } = process.memoryUsage();
    if (rss > this.peak) this.peak = rss;
    if (heapTotal > this.heapPeak) this.heapPeak = heapTotal;
  }
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it is true or `timeoutMs` passes; returns its last answer. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Something that can SET a key: an ioredis client. */
export interface KeySetter {
  set(key: string, value: string): Promise<unknown>;
}

/** Writes `read()` to `key` every `intervalMs` so another process can follow a count; returns a stop function that writes it once more. */
export function publishCount(redis: KeySetter, key: string, read: () => number, intervalMs = 20): () => Promise<void> {
  const timer = setInterval(() => void redis.set(key, String(read())).catch(() => undefined), intervalMs);
  return async () => {
    clearInterval(timer);
    await redis.set(key, String(read())).catch(() => undefined);
  };
}
