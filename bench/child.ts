import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINE_PREFIX, type ChildMessage, type Job, type RunResult } from './protocol.js';

let entry = fileURLToPath(new URL('./child-main.js', import.meta.url));
const live = new Set<ChildProcess>();

/**
 * Copies the compiled code (build/src, build/bench, build/sample) to a private
 * directory under build/ and starts children from there, so that a rebuild
 * during a long run does not change the code being measured.
 *
 * @returns a function that removes the copy
 */
export function snapshotCode(): () => void {
  const build = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(build, '.bench-snapshot-'));
  const skipProfiles = (path: string): boolean => !path.includes(`${sep}profiles`);
  for (const part of ['src', 'bench', 'sample']) {
    cpSync(join(build, part), join(dir, part), { recursive: true, filter: skipProfiles });
  }
  entry = join(dir, 'bench', 'child-main.js');
  return () => rmSync(dir, { recursive: true, force: true });
}

/** A contender running in its own process. */
export interface ChildRun {
  readonly pid: number;
  /** Resolves once the child is set up and waits for `go`. */
  readonly ready: Promise<void>;
  /** Lets the child start measuring. */
  go(): void;
  /** The child's result; rejects on error, crash or timeout. */
  readonly result: Promise<RunResult>;
  /** Kills the child (SIGKILL, by PID) if it still runs. */
  kill(): void;
  /** Resolves when the process has exited (at the latest when its timeout kills it). */
  readonly exited: Promise<void>;
}

/** Extra Node or V8 flags for every child (`BENCH_NODE_ARGS="--no-allocation-site-pretenuring"`), for experiments. */
const extraArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');

/**
 * Starts `child-main.js` with `job` in a fresh Node process (with `gc()`
 * exposed, which the memory runs call once their drain is measured). The child is
 * killed (SIGKILL, by PID) if it has not reported within `timeoutMs`.
 */
export function startChild(job: Job, timeoutMs: number): ChildRun {
  const child = spawn(process.execPath, ['--expose-gc', ...extraArgs, entry, JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  // A child that died early must not crash the parent with EPIPE on `go`.
  child.stdin?.on('error', () => undefined);
  let stderr = '';
  let stdout = '';
  let onReady: () => void = () => undefined;
  let failReady: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    failReady = reject;
  });
  ready.catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const result = new Promise<RunResult>((resolve, reject) => {
    const fail = (error: Error): void => {
      failReady(error);
      reject(error);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`child ${child.pid ?? '?'} timed out after ${timeoutMs} ms\n${stderr.slice(-2_000)}`));
    }, timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      let newline = stdout.indexOf('\n');
      while (newline >= 0) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        newline = stdout.indexOf('\n');
        if (!line.startsWith(LINE_PREFIX)) continue;
        const message = JSON.parse(line.slice(LINE_PREFIX.length)) as ChildMessage;
        if (message.type === 'ready') onReady();
        else if (message.type === 'result') resolve(message.result);
        else fail(new Error(`child ${child.pid ?? '?'} failed: ${message.message}`));
      }
    });
    child.on('error', (error) => fail(error));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      fail(new Error(`child ${child.pid ?? '?'} exited (${signal ?? code}) without a result\n${stderr.slice(-2_000)}`));
    });
  });
  result.catch(() => undefined);
  return {
    pid: child.pid ?? -1,
    ready,
    go: () => {
      child.stdin?.write('go\n');
    },
    result,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Kills every child still running (by PID), for the exit path. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}
