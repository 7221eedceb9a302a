#!/usr/bin/env node
/**
 * The `nrs` / `nestjs-redis-streams` command: see `nrs --help`.
 */
import { runCli } from './run.js';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: stop.signal,
});
