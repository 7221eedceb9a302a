import type { ConsumerName, Family, ProducerName, RpcName } from './contenders.js';

/** What a consumer child does. */
export type ConsumerMode = 'drain' | 'steady' | 'latency' | 'memory' | 'idle';

/** Where the benchmark writes: the same keys for every contender. */
export const KEYS = {
  stream: 'bench:stream',
  pattern: 'stream:bench:stream',
  list: 'bench:list',
  listPattern: 'list:bench:list',
  group: 'bench',
  queue: 'bench-queue',
  channel: 'bench-events',
  produced: 'bench:produced',
  handled: 'bench:handled',
} as const;

/** The keys of `count` bench streams: the usual one alone, else `bench:stream:<i>`. */
export function streamKeys(count: number): string[] {
  if (count === 1) return [KEYS.stream];
  return Array.from({ length: count }, (_, i) => `${KEYS.stream}:${i}`);
}

/** An entry as our client writes it: flat fields with the JSON payload at `dataIndex`. */
export interface EntryTemplate {
  readonly fields: readonly string[];
  readonly dataIndex: number;
}

/** Everything a consumer child needs, passed as one JSON argument. */
export interface ConsumerJob {
  readonly kind: 'consumer';
  readonly contender: ConsumerName;
  readonly mode: ConsumerMode;
  readonly port: number;
  /** Messages to handle (drain, memory) or expected (latency). */
  readonly count: number;
  /** Measuring window for steady, latency and idle. */
  readonly durationMs: number;
  /** Hard stop inside the child; it reports what it has by then. */
  readonly capMs: number;
  readonly template: EntryTemplate;
  /** When set, a CPU profile of the measured window is written to this path. */
  readonly profilePath?: string;
  /** Which of the row's app instances this child is (0 for the first); names its consumer. */
  readonly instance?: number;
}

/** What a producer child does. */
export type ProducerMode = 'max' | 'rate' | 'burst';

/** Everything a producer child needs. */
export interface ProducerJob {
  readonly kind: 'producer';
  readonly family: Family;
  readonly mode: ProducerMode;
  readonly port: number;
  /** Messages for `burst`; upper bound for the others. */
  readonly count: number;
  readonly durationMs: number;
  /** Messages per second for `rate`. */
  readonly rate: number;
  readonly template: EntryTemplate;
}

/** Producer-side throughput run: our `emit()` against raw pipelined XADD. */
export interface EmitJob {
  readonly kind: 'emit';
  readonly contender: ProducerName;
  readonly port: number;
  readonly count: number;
  readonly capMs: number;
  readonly template: EntryTemplate;
  /** When set, a CPU profile of the measured window is written to this path. */
  readonly profilePath?: string;
}

/** Request-reply: round trips per second with requests in flight, or latency at a fixed rate. */
export interface RpcJob {
  readonly kind: 'rpc';
  readonly contender: RpcName;
  readonly mode: 'throughput' | 'latency';
  readonly port: number;
  /** Measuring window. */
  readonly durationMs: number;
  /** Requests in flight (throughput). */
  readonly inFlight: number;
  /** Requests per second (latency). */
  readonly rate: number;
  /**
   * Latency runs: how long requests go out at `rate` after the warm-up with
   * `inFlight` outstanding and before the measured window, so that the
   * window sees the rate's steady state, not the JIT and GC work of the
   * switch from one load to the other. Their latency is reported apart.
   */
  readonly settleMs: number;
}

/** Any job a child runs. */
export type Job = ConsumerJob | ProducerJob | EmitJob | RpcJob;

/** Latency summary in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly samples: number;
}

/** What a child reports when it is done. */
export interface RunResult {
  /** Messages handled (consumers) or written (producers) in the measured window. */
  readonly messages: number;
  readonly elapsedMs: number;
  /** Messages per second over the measured window. */
  readonly rate: number;
  /** The child hit its cap before finishing. */
  readonly timedOut: boolean;
  /** Entries or jobs still unacknowledged when the run ended. */
  readonly unsettled?: number;
  readonly latency?: LatencySummary;
  /** Request-reply latency runs: the latency while settling at the rate, right after the warm-up with requests in flight. */
  readonly settling?: LatencySummary;
  readonly rssBaselineMb?: number;
  readonly rssPeakMb?: number;
  /** Peak V8 heap size (heapTotal) in the memory runs. */
  readonly heapPeakMb?: number;
  /** V8 heap in use after two full GCs once the memory run's drain is over: what it retains. */
  readonly heapLiveMb?: number;
  /** Produced minus handled: at the end, and the largest sample. */
  readonly lagFinal?: number;
  readonly lagMax?: number;
  /** Pub/sub events published but never handled. */
  readonly lost?: number;
  /** How long `listen()` took (idle runs). */
  readonly startupMs?: number;
  /** The consumer's connections to Redis once listening (CLIENT LIST). */
  readonly connections?: number;
  /** Redis commands per second while idle (INFO commandstats, the probe's own INFO left out). */
  readonly idleCommandsPerS?: number;
  /** The busiest commands while idle, e.g. `xpending 3.3/s, evalsha 1.7/s`. */
  readonly idleTopCommands?: string;
  /** CPU of the consumer process while idle, in % of one core. */
  readonly idleCpuPercent?: number;
  /** CPU time (user + system) of the consumer process per message handled, over a drain, in µs. */
  readonly cpuUsPerMessage?: number;
  /** Each instance's rate, for rows of several app instances (broadcast); `rate` is the slowest. */
  readonly instanceRates?: readonly number[];
}

/** Prefix of the lines a child writes for the parent; anything else is ignored. */
export const LINE_PREFIX = '@@bench ';

/** A line from a child. */
export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: RunResult }
  | { readonly type: 'error'; readonly message: string };

/** Writes one message line for the parent. */
export function tell(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write(`${LINE_PREFIX}${JSON.stringify(message)}\n`, () => resolve());
  });
}

/** Resolves when the parent writes `go` on stdin. */
export function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      if (buffered.includes('go\n')) {
        process.stdin.off('data', onData);
        process.stdin.pause();
        resolve();
      }
    };
    process.stdin.on('data', onData);
  });
}
