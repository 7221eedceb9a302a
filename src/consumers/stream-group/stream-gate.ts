import type { Logger } from '@nestjs/common';
import type { RedisCommands } from '../../connection/redis-client.js';
import { describeError } from '../../errors/describe-error.js';
import { abortablePause } from '../../delivery/abortable-pause.js';

/** How often, at most, the streams still missing are named again in the log. */
export const MISSING_STREAMS_LOG_INTERVAL_MS = 60_000;

/** What a stream gate needs. */
export interface StreamGateDeps {
  readonly commands: RedisCommands;
  readonly logger: Logger;
  /** How often the missing streams are looked for (`streamWaitIntervalMs`). */
  readonly intervalMs: number;
  /** How often, at most, the ones still missing are logged again. */
  readonly logIntervalMs?: number;
}

/**
 * Waits until every one of `streams` exists (argo-events' behaviour with
 * `missingStream: 'wait'`): no bound stream is read before all of them can
 * be. One `TYPE` per missing stream every `intervalMs`, sent together; the
 * ones still missing are named when waiting starts, when one appears, and
 * every `logIntervalMs`. A key of another type counts as there: its reader
 * reports it when it starts.
 *
 * @returns true once all exist, false when `signal` aborted the wait first
 */
export async function waitForStreams(streams: readonly string[], deps: StreamGateDeps, signal: AbortSignal): Promise<boolean> {
  const { commands, logger, intervalMs } = deps;
  const logIntervalMs = deps.logIntervalMs ?? MISSING_STREAMS_LOG_INTERVAL_MS;
  let missing = [...streams];
  logger.warn(`Waiting for ${describeStreams(missing)} to be created (missingStream: 'wait'): no stream is read until all exist.`);
  let loggedAt = Date.now();
  for (;;) {
    if (signal.aborted) return false;
    try {
      const types = await Promise.all(missing.map((stream) => commands.type(stream)));
      const appeared = missing.filter((_, i) => types[i] !== 'none');
      if (appeared.length > 0) {
        missing = missing.filter((_, i) => types[i] === 'none');
        if (missing.length === 0) {
          logger.log(`${describeStreams(appeared)} appeared; every bound stream exists, reading starts.`);
          return true;
        }
        logger.log(`${describeStreams(appeared)} appeared; still waiting for ${describeStreams(missing)}.`);
        loggedAt = Date.now();
      } else if (Date.now() - loggedAt >= logIntervalMs) {
        logger.warn(`Still waiting for ${describeStreams(missing)} to be created; no stream is read until all exist.`);
        loggedAt = Date.now();
      }
    } catch (error) {
      logger.warn(`Cannot look for the missing streams (${describeError(error)}); trying again in ${intervalMs} ms.`);
    }
    if (!(await abortablePause(intervalMs, signal))) return false;
  }
}

function describeStreams(streams: readonly string[]): string {
  const named = streams.map((stream) => `"${stream}"`).join(', ');
  return streams.length === 1 ? `stream ${named}` : `streams ${named}`;
}
