import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** Where and with what the benchmark ran. */
export interface Environment {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly redis: string;
  readonly packages: Readonly<Record<string, string>>;
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

/** Reads the machine and the versions in use. */
export function describeEnvironment(): Environment {
  const nproc = spawnSync('nproc', { encoding: 'utf8' });
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return {
    cpu: cpuModel(),
    cores: nproc.status === 0 ? Number(nproc.stdout.trim()) : cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    redis: redis.stdout.match(/v=(\S+)/)?.[1] ?? 'unknown',
    packages: Object.fromEntries(
      ['@nestjs/core', '@nestjs/microservices', 'ioredis', 'bullmq', 'rxjs'].map((name) => [name, packageVersion(name)]),
    ),
  };
}

/** The environment as a markdown list. */
export function environmentMarkdown(env: Environment): string {
  return [
    `- Machine: ${env.cores} cores (nproc), ${env.memoryGiB.toFixed(1)} GiB RAM, ${env.cpu}`,
    `- Node ${env.node}, redis-server ${env.redis} (started by the benchmark on 127.0.0.1, \`--save '' --appendonly no\`)`,
    `- ${Object.entries(env.packages).map(([name, version]) => `${name} ${version}`).join(', ')}`,
  ].join('\n');
}
