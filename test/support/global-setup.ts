import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { redisServerBinary, startLocalRedis, type LocalRedis } from './local-redis';
// Extensionless on purpose: Jest loads global setup through require(), where
// the .js-to-.ts mapping of the test files does not apply.

declare global {
  var __NRS_REDIS__: LocalRedis | undefined;
}

/** Where `tsc -p tsconfig.fixtures.json` puts the consumer child program. */
const CONSUMER_FIXTURE = join('build', 'fixtures', 'test', 'fixtures', 'consumer.js');

/**
 * Compiles the child programs of the fault tests (test/fixtures, with src) to
 * build/fixtures: Node cannot run TypeScript, and the children are real processes.
 * Incremental, so an unchanged tree takes a few seconds.
 *
 * @throws Error with tsc's output when nothing runnable was produced
 */
function compileFixtures(rootDir: string): void {
  const tsc = join(rootDir, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.fixtures.json'], {
    cwd: rootDir,
    encoding: 'utf8',
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  if (result.status === 0) return;
  if (result.error === undefined && existsSync(join(rootDir, CONSUMER_FIXTURE))) {
    // Type errors still emit JavaScript; ts-jest reports them for the tests
    // themselves, so only say so here.
    process.stderr.write(`\ntsc -p tsconfig.fixtures.json reported errors (fixtures emitted anyway):\n${output}\n`);
    return;
  }
  throw new Error(`Could not compile the test fixtures (tsc -p tsconfig.fixtures.json):\n${result.error?.message ?? output}`);
}

/**
 * Compiles the child-process fixtures, then starts one redis-server for the
 * suite, unless REDIS_URL points at one.
 */
export default async function globalSetup(globalConfig: { rootDir?: string } = {}): Promise<void> {
  compileFixtures(globalConfig.rootDir ?? process.cwd());
  if (process.env.REDIS_URL) return;
  const redis = await startLocalRedis();
  const version = spawnSync(redisServerBinary(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`\nTests run on ${version} (${redisServerBinary()}), 127.0.0.1:${redis.port}.\n`);
  globalThis.__NRS_REDIS__ = redis;
  process.env.REDIS_URL = redis.url;
}
