import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { redisServerBinary } from '../test/support/local-redis.js';

/** Where and with what the benchmark ran. */
export interface Environment {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly redis: string;
  readonly packages: Readonly<Record<string, string>>;
  /** Commit of the code measured, and whether src/ had uncommitted changes. */
  readonly source: string;
}

/** 1-minute load averages sampled during the run. */
export interface LoadSummary {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** Samples the 1-minute load average every `intervalMs`; `stop()` returns the summary. */
export function sampleLoad(intervalMs = 5_000): { stop(): LoadSummary } {
  const samples: number[] = [loadavg()[0] ?? 0];
  const timer = setInterval(() => samples.push(loadavg()[0] ?? 0), intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(loadavg()[0] ?? 0);
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      return { min: Math.min(...samples), max: Math.max(...samples), mean };
    },
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function packageVersion(name: string): string {
  try {
    const path = join(process.cwd(), 'node_modules', name, 'package.json');
    const json = JSON.parse(readFileSync(path, 'utf8')) as { version?: string };
    return json.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function sourceVersion(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  return `commit ${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : ' with uncommitted changes in src/'}`;
}

/**
 * Median time of one awaited PING to the benchmark's Redis (µs): what a
 * consumer that needs a round trip per read pays at least once per read.
 */
export async function measureRoundTripUs(redis: Redis, pings = 3_000): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < pings; i += 1) {
    const t0 = performance.now();
    await redis.ping();
    times.push((performance.now() - t0) * 1_000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Reads the machine and the versions in use. */
export function describeEnvironment(): Environment {
  const nproc = spawnSync('nproc', { encoding: 'utf8' });
  const redis = spawnSync(redisServerBinary(), ['--version'], { encoding: 'utf8' });
  return {
    cpu: cpuModel(),
    cores: nproc.status === 0 ? Number(nproc.stdout.trim()) : cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    redis: redis.stdout.match(/v=(\S+)/)?.[1] ?? 'unknown',
    source: sourceVersion(),
    packages: Object.fromEntries(
      ['@nestjs/core', '@nestjs/microservices', 'ioredis', 'bullmq', 'rxjs'].map((name) => [name, packageVersion(name)]),
    ),
  };
}

/** The environment as a markdown list. */
export function environmentMarkdown(env: Environment, load: LoadSummary, roundTripUs: number | undefined): string {
  const shared = load.max > env.cores * 0.75 + 1;
  return [
    `- Machine: ${env.cores} cores (nproc), ${env.memoryGiB.toFixed(1)} GiB RAM, ${env.cpu}`,
    `- Node ${env.node}, redis-server ${env.redis} (started by the benchmark on 127.0.0.1, \`--save '' --appendonly no\`)`,
    `- Code measured: ${env.source}`,
    ...(roundTripUs === undefined
      ? []
      : [`- Round trip to Redis (median awaited PING from Node, measured at the start): ${roundTripUs.toFixed(0)} µs`]),
    `- ${Object.entries(env.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    `- Load average (1 min) during the run: mean ${load.mean.toFixed(1)}, min ${load.min.toFixed(1)}, max ${load.max.toFixed(1)}` +
      (shared
        ? ' (other work was running on the machine; absolute numbers are lower and noisier than on an idle machine, paired ratios less so)'
        : ''),
  ].join('\n');
}
