import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConsumerConfig } from '../fixtures/consumer-app.js';

/** The consumer child program, compiled by global setup (tsconfig.fixtures.json). */
export const CONSUMER_PROGRAM = fileURLToPath(new URL('../../build/fixtures/test/fixtures/consumer.js', import.meta.url));

/** A consumer running in its own Node process. */
export interface ChildConsumer {
  readonly pid: number;
  readonly name: string;
  /** Resolves once the child prints `ready`; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>;
  /** What the child wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` (SIGKILL by default) to the child's PID and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildConsumer>();

/**
 * Spawns `node build/fixtures/test/fixtures/consumer.js` with `config`, and
 * `env` over this process' environment. Every child is tracked;
 * {@link killAllChildren} ends them (by PID).
 */
export function spawnConsumer(config: ConsumerConfig, env: NodeJS.ProcessEnv = {}): ChildConsumer {
  if (!existsSync(CONSUMER_PROGRAM)) {
    throw new Error(`${CONSUMER_PROGRAM} is missing; global setup compiles it with tsc -p tsconfig.fixtures.json.`);
  }
  const child: ChildProcess = spawn(process.execPath, [CONSUMER_PROGRAM], {
    env: { ...process.env, ...env, NRS_CONSUMER: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn the consumer child');
  const pid = child.pid;
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.split('\n').includes('ready')) resolve();
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`consumer ${config.options.consumer ?? ''} exited before ready (code ${code}, signal ${signal}):\n${stderr}`)),
    );
  });
  ready.catch(() => undefined);
  const handle: ChildConsumer = {
    pid,
    name: config.options.consumer ?? `pid-${pid}`,
    ready,
    exited,
    stderr: () => stderr,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, signal);
        } catch {
          // Already gone.
        }
      }
      await exited;
      running.delete(handle);
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** SIGKILLs every child still running; the scene does it after every test. */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.kill('SIGKILL')));
}

/** What {@link consumerConfig} needs; everything else gets the fast test defaults. */
export interface ConsumerSpec extends Partial<Omit<ConsumerConfig, 'options'>> {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly record: string;
  readonly url: string;
  readonly options?: Partial<ConsumerConfig['options']>;
}

/** A consumer configuration with short timeouts, for children and in-process consumers alike. */
export function consumerConfig(spec: ConsumerSpec): ConsumerConfig {
  return {
    url: spec.url,
    stream: spec.stream,
    record: spec.record,
    behaviour: spec.behaviour ?? 'ok',
    ...(spec.slowMs === undefined ? {} : { slowMs: spec.slowMs }),
    ...(spec.failRate === undefined ? {} : { failRate: spec.failRate }),
    ...(spec.logLevels === undefined ? {} : { logLevels: spec.logLevels }),
    ...(spec.cluster === undefined ? {} : { cluster: spec.cluster }),
    ...(spec.source === undefined ? {} : { source: spec.source }),
    ...(spec.requestStream === undefined ? {} : { requestStream: spec.requestStream }),
    options: {
      group: spec.group,
      consumer: spec.consumer,
      blockMs: 200,
      claimIdleMs: 1_000,
      claimIntervalMs: 100,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      shutdownTimeoutMs: 2_000,
      ...spec.options,
    },
  };
}
