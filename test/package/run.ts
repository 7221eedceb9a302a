// The package as users get it: builds, packs, checks the tarball's contents,
// then makes a fresh NestJS 12 ESM app and a fresh NestJS 11 CommonJS app in
// temporary folders (dependencies from the registry, this package from the
// tarball), builds each with tsc and runs it against a throwaway redis-server.
//
//   npm run test:package            (KEEP_PACKAGE_APPS=1 keeps the folders)
//
// npm's own cache (~/.npm, or npm_config_cache) is reused with --prefer-offline,
// so a second run downloads nothing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalRedis, type LocalRedis } from '../support/local-redis.js';
import { APPS, type AppSpec } from './apps.js';
import { checkPackContents, type PackageEntryPoints } from './pack-contents.js';

const INSTALL_TIMEOUT_MS = 180_000;
const BUILD_TIMEOUT_MS = 120_000;
const APP_TIMEOUT_MS = 60_000;

interface Step {
  readonly label: string;
  readonly ms: number;
}

const steps: Step[] = [];

/** The repository root: the nearest folder up from here with our package.json. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'nestjs-redis-streams') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the nestjs-redis-streams package root above this script.');
    dir = parent;
  }
}

/**
 * The environment for child processes, without the npm_* variables of the
 * `npm run` that started this script: with them, an npm started in an app
 * folder could take this repository for its project.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) || key.toLowerCase() === 'npm_config_cache') env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs a command to its end; kills it (by its pid) after `timeoutMs`.
 *
 * @returns its stdout
 * @throws Error with the command's output when it fails or times out
 */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv; label: string },
): Promise<string> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      steps.push({ label: options.label, ms: Date.now() - started });
      if (code === 0) {
        resolve(stdout);
        return;
      }
      const why = isTimedOut ? `timed out after ${options.timeoutMs} ms` : `exited with ${code ?? signal}`;
      reject(new Error(`${options.label}: ${command} ${args.join(' ')} ${why}\n${stdout}${stderr}`.trimEnd()));
    });
  });
}

/** Builds the package, checks what `npm pack` would publish, and packs it. */
async function pack(root: string, destination: string): Promise<string> {
  await run('npm', ['run', 'build'], { cwd: root, timeoutMs: BUILD_TIMEOUT_MS, label: 'npm run build' });
  const dryRun = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    timeoutMs: BUILD_TIMEOUT_MS,
    label: 'npm pack --dry-run',
  });
  const [listing] = JSON.parse(dryRun) as Array<{ files: Array<{ path: string }> }>;
  const files = (listing?.files ?? []).map((file) => file.path);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageEntryPoints;
  const problems = checkPackContents(files, manifest, (path) => readFileSync(join(root, path), 'utf8'));
  if (problems.length > 0) throw new Error(`The package would publish what it should not:\n  ${problems.join('\n  ')}`);
  process.stdout.write(`package contents OK: ${files.length} files, no tests, sources or dangling source maps\n`);
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
    cwd: root,
    timeoutMs: BUILD_TIMEOUT_MS,
    label: 'npm pack',
  });
  const [result] = JSON.parse(packed) as Array<{ filename: string }>;
  if (result === undefined) throw new Error('npm pack reported no tarball');
  return join(destination, result.filename);
}

/** Writes the app's package.json, tsconfig files and source. */
function scaffold(root: string, app: AppSpec, dir: string, tarball: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  const manifest = {
    name: `compat-${app.name}`,
    private: true,
    ...(app.type === undefined ? {} : { type: app.type }),
    dependencies: { ...app.dependencies, 'nestjs-redis-streams': `file:${tarball}` },
    devDependencies: app.devDependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const project of app.projects) {
    const config = { compilerOptions: project.compilerOptions, include: ['src'] };
    writeFileSync(join(dir, project.file), `${JSON.stringify(config, null, 2)}\n`);
  }
  copyFileSync(join(root, 'test', 'package', 'app', 'main.ts'), join(dir, 'src', 'main.ts'));
}

/** Installs, builds, type-checks and runs one app; resolves with its last output line. */
async function checkApp(root: string, app: AppSpec, dir: string, tarball: string, redisUrl: string): Promise<string> {
  scaffold(root, app, dir, tarball);
  await run(
    'npm',
    ['install', '--prefix', dir, '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--loglevel', 'error'],
    { cwd: dir, timeoutMs: INSTALL_TIMEOUT_MS, label: `${app.name}: npm install` },
  );
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const project of app.projects) {
    await run(process.execPath, [tsc, '-p', project.file], {
      cwd: dir,
      timeoutMs: BUILD_TIMEOUT_MS,
      label: `${app.name}: tsc -p ${project.file}`,
    });
  }
  const env = childEnv({ REDIS_URL: redisUrl, COMPAT_PREFIX: `compat-${app.name}-${randomBytes(3).toString('hex')}` });
  const output = await run(process.execPath, [join('dist', 'main.js')], {
    cwd: dir,
    env,
    timeoutMs: APP_TIMEOUT_MS,
    label: `${app.name}: node dist/main.js`,
  });
  // The CLI as npm installs it: the bin link, run on its own (no NestJS needed).
  const streams = await run(join(dir, 'node_modules', '.bin', 'nrs'), ['streams', '--json', '--match', `${env['COMPAT_PREFIX']}*`], {
    cwd: dir,
    env,
    timeoutMs: APP_TIMEOUT_MS,
    label: `${app.name}: nrs streams`,
  });
  if (!Array.isArray(JSON.parse(streams))) throw new Error(`${app.name}: nrs streams --json printed no list`);
  return output.trim().split('\n').at(-1) ?? '';
}

function report(totalMs: number): void {
  const width = Math.max(...steps.map((step) => step.label.length));
  for (const step of steps) process.stdout.write(`  ${step.label.padEnd(width)}  ${(step.ms / 1000).toFixed(1)} s\n`);
  process.stdout.write(`  ${'total'.padEnd(width)}  ${(totalMs / 1000).toFixed(1)} s\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const root = findRoot();
  const work = mkdtempSync(join(tmpdir(), 'nrs-package-'));
  let redis: LocalRedis | undefined;
  try {
    const tarball = await pack(root, work);
    redis = await startLocalRedis();
    const url = redis.url;
    // The apps share nothing but the Redis (each uses its own key prefix), so they run side by side.
    const results = await Promise.allSettled(APPS.map((app) => checkApp(root, app, join(work, app.name), tarball, url)));
    const failures = results.flatMap((result): unknown[] => (result.status === 'rejected' ? [result.reason] : []));
    for (const result of results) if (result.status === 'fulfilled') process.stdout.write(`${result.value}\n`);
    if (failures.length > 0) {
      throw new Error(failures.map((failure) => (failure instanceof Error ? failure.message : String(failure))).join('\n\n'));
    }
  } finally {
    await redis?.stop();
    if (process.env.KEEP_PACKAGE_APPS) process.stdout.write(`apps kept in ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
    report(Date.now() - started);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`package compatibility FAILED\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
