/**
 * Bounded soak test (`npm run soak`, not part of `npm test`): several consumer
 * processes with random handler failures, random SIGKILLs, graceful stops and
 * restarts, while producers write. At the end the producers stop, the consumers
 * drain, and every produced id must be handled or dead-lettered, with nothing
 * pending. Prints a summary; exits 1 on any loss.
 *
 *   npm run soak -- --minutes 3 --consumers 4 --producers 2 --rate 150
 *   npm run soak -- --restart-redis      (also SIGKILLs redis-server now and then; AOF on)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../support/local-redis.js';
import type { ConsumerConfig } from '../fixtures/consumer-app.js';

interface SoakOptions {
  readonly minutes: number;
  readonly consumers: number;
  readonly producers: number;
  /** Entries per second per producer. */
  readonly rate: number;
  readonly failRate: number;
  readonly maxDeliveries: number;
  readonly restartRedis: boolean;
  readonly drainTimeoutMs: number;
}

function readOptions(): SoakOptions {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '3' },
      consumers: { type: 'string', default: '4' },
      producers: { type: 'string', default: '2' },
      rate: { type: 'string', default: '150' },
      'fail-rate': { type: 'string', default: '0.1' },
      'max-deliveries': { type: 'string', default: '3' },
      'restart-redis': { type: 'boolean', default: false },
      'drain-timeout-s': { type: 'string', default: '120' },
    },
  });
  const number = (name: keyof typeof values, min: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got ${String(values[name])}`);
    return value;
  };
  return {
    minutes: number('minutes', 0.05),
    consumers: Math.floor(number('consumers', 2)),
    producers: Math.floor(number('producers', 1)),
    rate: number('rate', 1),
    failRate: number('fail-rate', 0),
    maxDeliveries: Math.floor(number('max-deliveries', 1)),
    restartRedis: values['restart-redis'] === true,
    drainTimeoutMs: number('drain-timeout-s', 1) * 1_000,
  };
}

const CONSUMER_PROGRAM = fileURLToPath(new URL('./soak-consumer.js', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const randomBetween = (min: number, max: number) => min + Math.random() * (max - min);

/** Counters for the summary. */
const counts = {
  sigkills: 0,
  sigterms: 0,
  starts: 0,
  redisRestarts: 0,
  produceRetries: 0,
};

/** One consumer slot: a child process that is killed and restarted over and over. */
class ConsumerSlot {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(
    private readonly index: number,
    private readonly config: (consumer: string) => ConsumerConfig,
    private readonly log: WriteStream,
  ) {}

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Starts the child and waits for `ready` (or its exit). */
  async start(): Promise<void> {
    // Half the restarts keep the consumer name (resume own pending entries),
    // half take a new one (the old one's entries must be claimed by others).
    if (this.generation === 0 || Math.random() < 0.5) this.generation += 1;
    const name = `soak-${this.index}-${this.generation}`;
    const child = spawn(process.execPath, [CONSUMER_PROGRAM], {
      env: { ...process.env, NRS_CONSUMER: JSON.stringify(this.config(name)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    counts.starts += 1;
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.log.write(`[${new Date().toISOString()}] ${name} (pid ${child.pid}) exited: code ${code}, signal ${signal}\n`);
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    child.stderr.on('data', (chunk: Buffer) => this.log.write(`[${name}] ${chunk.toString()}`));
    await new Promise<void>((resolve) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (!buffered.includes('ready\n')) {
          buffered += text;
          if (buffered.includes('ready\n')) resolve();
        }
        this.log.write(`[${name}] ${text}`);
      });
      void this.exited.then(resolve);
    });
  }

  /** Sends `signal` to the child's PID and waits for it to exit. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    try {
      process.kill(child.pid, signal);
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Writes `rate` entries per second until stopped, retrying every XADD until Redis acknowledges it. */
class Producer {
  readonly produced: string[] = [];
  private isStopping = false;
  private running: Promise<void> | undefined;
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly stream: string,
    private readonly index: number,
    private readonly rate: number,
  ) {
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    this.redis.on('error', () => undefined);
  }

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.isStopping = true;
    await this.running;
    this.redis.disconnect();
  }

  private async run(): Promise<void> {
    const startedAt = Date.now();
    for (let n = 0; !this.isStopping; n += 1) {
      const dueAt = startedAt + (n * 1_000) / this.rate;
      if (dueAt > Date.now()) await sleep(dueAt - Date.now());
      for (;;) {
        try {
          this.produced.push((await this.redis.xadd(this.stream, '*', 'producer', String(this.index), 'n', String(n)))!);
          break;
        } catch {
          counts.produceRetries += 1;
          await sleep(50);
        }
      }
    }
  }
}

interface GroupState {
  readonly pending: number;
  readonly lag: number | null;
}

async function groupState(redis: Redis, stream: string, group: string): Promise<GroupState> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  for (const info of groups) {
    const fields = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < info.length; i += 2) fields.set(info[i], info[i + 1]);
    if (fields.get('name') === group) {
      const lag = fields.get('lag');
      return {
        pending: Number(fields.get('pending')),
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    }
  }
  throw new Error(`group ${group} is missing on ${stream}`);
}

/** The source ids in the dead-letter stream. */
async function deadLetteredIds(redis: Redis, deadLetter: string): Promise<string[]> {
  const ids: string[] = [];
  let from = '-';
  for (;;) {
    const page = await redis.xrange(deadLetter, from, '+', 'COUNT', 1_000);
    for (const [, flat] of page) {
      const at = flat.indexOf('dlq-id');
      if (at >= 0 && at + 1 < flat.length) ids.push(flat[at + 1]!);
    }
    if (page.length < 1_000) return ids;
    from = `(${page[page.length - 1]![0]}`;
  }
}

async function chaos(slots: ConsumerSlot[], redis: LocalRedis, options: SoakOptions, until: number, log: WriteStream): Promise<void> {
  let nextRedisRestart = Date.now() + randomBetween(40_000, 70_000);
  while (Date.now() < until) {
    await sleep(randomBetween(1_500, 5_000));
    if (Date.now() >= until) break;
    if (options.restartRedis && Date.now() >= nextRedisRestart) {
      log.write(`[${new Date().toISOString()}] chaos: restarting redis-server\n`);
      await redis.restart();
      counts.redisRestarts += 1;
      nextRedisRestart = Date.now() + randomBetween(40_000, 70_000);
      continue;
    }
    const slot = slots[Math.floor(Math.random() * slots.length)]!;
    if (!slot.isRunning) continue;
    const signal: NodeJS.Signals = Math.random() < 0.7 ? 'SIGKILL' : 'SIGTERM';
    log.write(`[${new Date().toISOString()}] chaos: ${signal}\n`);
    if (signal === 'SIGKILL') counts.sigkills += 1;
    else counts.sigterms += 1;
    await slot.stop(signal);
    // Restart later, in the background: some slots stay down for a while.
    void sleep(randomBetween(0, 3_000)).then(() => (Date.now() < until && !slot.isRunning ? slot.start() : undefined));
  }
}

async function main(): Promise<number> {
  const options = readOptions();
  const logDir = mkdtempSync(join(tmpdir(), 'nrs-soak-'));
  const log = createWriteStream(join(logDir, 'soak.log'));
  const redis = await startLocalRedis({ appendOnly: options.restartRedis });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  const stream = `soak-${Date.now()}`;
  const group = 'soak';
  const record = `${stream}:record`;
  const deadLetter = `{${stream}}:dlq`;
  const slots: ConsumerSlot[] = [];
  const producers: Producer[] = [];
  const startedAt = Date.now();
  console.log(
    `soak: ${options.minutes} min, ${options.consumers} consumers, ${options.producers} producers x ${options.rate}/s, ` +
      `failRate ${options.failRate}, maxDeliveries ${options.maxDeliveries}${options.restartRedis ? ', redis restarts' : ''}; log ${join(logDir, 'soak.log')}`,
  );
  try {
    await admin.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const config = (consumer: string): ConsumerConfig => ({
      url: redis.url,
      stream,
      record,
      behaviour: 'flaky',
      failRate: options.failRate,
      slowMs: 50,
      logLevels: ['error', 'warn'],
      options: {
        group,
        consumer,
        blockMs: 1_000,
        concurrency: 20,
        claimIdleMs: 2_000,
        claimIntervalMs: 200,
        maxDeliveries: options.maxDeliveries,
        retry: { baseDelayMs: 50, maxDelayMs: 1_000 },
        shutdownTimeoutMs: 1_000,
        idleConsumerCleanupMs: 15_000,
      },
    });
    for (let i = 1; i <= options.consumers; i += 1) slots.push(new ConsumerSlot(i, config, log));
    await Promise.all(slots.map((slot) => slot.start()));
    for (let i = 1; i <= options.producers; i += 1) producers.push(new Producer(redis.url, stream, i, options.rate));
    for (const producer of producers) producer.start();

    const until = startedAt + options.minutes * 60_000;
    const progress = setInterval(() => {
      const produced = producers.reduce((sum, p) => sum + p.produced.length, 0);
      void Promise.all([admin.scard(`${record}:handled`), admin.xlen(deadLetter), groupState(admin, stream, group)])
        .then(([handled, dead, state]) =>
          console.log(
            `  ${Math.round((Date.now() - startedAt) / 1_000)} s: produced ${produced}, handled ${handled}, dead-lettered ${dead}, ` +
              `pending ${state.pending}, kills ${counts.sigkills}, stops ${counts.sigterms}`,
          ),
        )
        .catch(() => undefined);
    }, 15_000);
    await chaos(slots, redis, options, until, log);
    await Promise.all(producers.map((producer) => producer.stop()));
    clearInterval(progress);

    // Drain: every consumer up, until everything is read and settled.
    await Promise.all(slots.filter((slot) => !slot.isRunning).map((slot) => slot.start()));
    const produced = producers.flatMap((producer) => producer.produced);
    const drainStarted = Date.now();
    let drained = false;
    while (Date.now() - drainStarted < options.drainTimeoutMs) {
      const state = await groupState(admin, stream, group);
      const settled = (await admin.scard(`${record}:handled`)) + (await admin.xlen(deadLetter));
      if (state.pending === 0 && state.lag === 0 && settled >= produced.length) {
        drained = true;
        break;
      }
      await sleep(250);
    }
    const drainMs = Date.now() - drainStarted;
    await Promise.all(slots.map((slot) => slot.stop('SIGTERM')));
    return await verify({
      admin,
      stream,
      group,
      record,
      deadLetter,
      produced,
      drained,
      drainMs,
      startedAt,
      options,
    });
  } finally {
    await Promise.all(slots.map((slot) => slot.stop('SIGKILL')));
    await Promise.all(producers.map((producer) => producer.stop()));
    admin.disconnect();
    await redis.stop();
    log.end();
  }
}

interface VerifyInput {
  readonly admin: Redis;
  readonly stream: string;
  readonly group: string;
  readonly record: string;
  readonly deadLetter: string;
  readonly produced: string[];
  readonly drained: boolean;
  readonly drainMs: number;
  readonly startedAt: number;
  readonly options: SoakOptions;
}

async function verify(input: VerifyInput): Promise<number> {
  const { admin, stream, group, record, deadLetter, produced } = input;
  const handled = new Set(await admin.smembers(`${record}:handled`));
  const doneCount = await admin.llen(`${record}:done`);
  const startedCount = await admin.llen(`${record}:started`);
  const dead = await deadLetteredIds(admin, deadLetter);
  const deadSet = new Set(dead);
  const missing = produced.filter((id) => !handled.has(id) && !deadSet.has(id));
  const state = await groupState(admin, stream, group);
  const consumersLeft = ((await admin.xinfo('CONSUMERS', stream, group)) as unknown[]).length;
  const summary = {
    durationS: Math.round((Date.now() - input.startedAt) / 1_000),
    drainS: Math.round(input.drainMs / 100) / 10,
    produced: produced.length,
    producedUnique: new Set(produced).size,
    streamLength: await admin.xlen(stream),
    handledUnique: handled.size,
    handlerRuns: startedCount,
    successfulRuns: doneCount,
    duplicates: doneCount - handled.size,
    deadLettered: dead.length,
    deadLetteredUnique: deadSet.size,
    handledAndDeadLettered: dead.filter((id) => handled.has(id)).length,
    missing: missing.length,
    pending: state.pending,
    lag: state.lag,
    consumersLeftInGroup: consumersLeft,
    sigkills: counts.sigkills,
    sigterms: counts.sigterms,
    consumerStarts: counts.starts,
    redisRestarts: counts.redisRestarts,
    produceRetries: counts.produceRetries,
  };
  console.log('soak summary:');
  for (const [key, value] of Object.entries(summary)) console.log(`  ${key.padEnd(24)} ${String(value)}`);
  const failures: string[] = [];
  if (!input.drained) failures.push(`did not drain within ${input.options.drainTimeoutMs / 1_000} s`);
  if (missing.length > 0)
    failures.push(`${missing.length} produced entries neither handled nor dead-lettered, e.g. ${missing.slice(0, 5).join(', ')}`);
  if (state.pending > 0) failures.push(`${state.pending} entries still pending`);
  if (failures.length > 0) {
    console.log(`soak FAILED: ${failures.join('; ')}`);
    return 1;
  }
  console.log('soak passed: every produced entry was handled or dead-lettered; nothing pending.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('soak crashed:', error);
    process.exit(2);
  },
);
