import type { AdminClient } from '../admin/admin-client.js';
import { describeGroups } from '../admin/groups.js';
import { pendingSummary } from '../connection/stream-figures.js';
import { describeError } from '../errors/describe-error.js';
import type { RedisStreamsHealthSnapshot } from '../interfaces/health.interface.js';
import { RedisStreamsStatus } from '../interfaces/status.enum.js';

/** When a healthy target counts as degraded; every threshold is off unless set. */
export interface RedisStreamsHealthOptions {
  /**
   * How long the target may be disconnected or reconnecting before it is down
   * (a reconnect usually takes well under a second).
   *
   * @defaultValue 5000
   */
  readonly disconnectedGraceMs?: number;
  /** Degraded when a group's lag (entries not yet delivered) exceeds this. */
  readonly maxLag?: number;
  /** Degraded when the oldest entry not yet delivered to the group has waited longer (ms). */
  readonly maxLagMs?: number;
  /** Degraded when the oldest pending entry (delivered, not yet acknowledged) is older than this (ms since it was added). */
  readonly maxOldestPendingMs?: number;
  /** Degraded when a dead-letter stream grew by more than this since the previous check. */
  readonly maxDeadLetterGrowth?: number;
}

/** The verdict on a server or client, with the figures behind it. */
export interface HealthVerdict {
  readonly status: 'up' | 'degraded' | 'down';
  /** Why it is not up (empty when up). */
  readonly reasons: readonly string[];
  /** Per stream, the figures read (only when a threshold asked for them). */
  readonly streams: Record<string, StreamFigures>;
  readonly connection: string;
}

/** What was read about one stream. */
export interface StreamFigures {
  lag?: number;
  lagMs?: number;
  oldestPendingMs?: number;
  deadLetters?: number;
  deadLetterGrowth?: number;
}

export const DEFAULT_DISCONNECTED_GRACE_MS = 5_000;

/** Dead-letter lengths seen at the previous check, to measure growth: per dead-letter stream. */
export type DeadLetterMemory = Map<string, number>;

/**
 * Judges a server or client: down when disconnected past the grace period,
 * closing, or a reader stopped for good; degraded past a threshold; up
 * otherwise. Figures are read from Redis only for the thresholds set.
 */
export async function judgeHealth(
  snapshot: RedisStreamsHealthSnapshot,
  options: RedisStreamsHealthOptions = {},
  memory: DeadLetterMemory = new Map(),
  now = Date.now(),
): Promise<HealthVerdict> {
  const down: string[] = [];
  const graceMs = options.disconnectedGraceMs ?? DEFAULT_DISCONNECTED_GRACE_MS;
  const connection = snapshot.status ?? 'not connected';
  if (snapshot.isClosing) down.push(`the ${snapshot.kind} is shutting down`);
  if (snapshot.status !== RedisStreamsStatus.CONNECTED && now - snapshot.statusSince >= graceMs) {
    down.push(
      `${snapshot.status === undefined ? 'not connected' : snapshot.status} for ${now - snapshot.statusSince} ms (grace ${graceMs} ms)`,
    );
  }
  for (const failure of snapshot.failures)
    down.push(`stopped reading${failure.stream === undefined ? '' : ` "${failure.stream}"`}: ${failure.message}`);
  if (down.length > 0) return { status: 'down', reasons: down, streams: {}, connection };
  const wantsFigures =
    options.maxLag !== undefined ||
    options.maxLagMs !== undefined ||
    options.maxOldestPendingMs !== undefined ||
    options.maxDeadLetterGrowth !== undefined;
  if (!wantsFigures || snapshot.commands === undefined || snapshot.group === undefined)
    return { status: 'up', reasons: [], streams: {}, connection };
  const degraded: string[] = [];
  const streams: Record<string, StreamFigures> = {};
  try {
    for (const { stream, deadLetterStream } of snapshot.streams) {
      const figures = await readFigures(snapshot.commands, stream, snapshot.group, deadLetterStream, options, memory, now);
      streams[stream] = figures;
      degraded.push(...overThresholds(stream, figures, options));
    }
  } catch (error) {
    return { status: 'down', reasons: [`cannot read the figures from Redis (${describeError(error)})`], streams, connection };
  }
  return { status: degraded.length > 0 ? 'degraded' : 'up', reasons: degraded, streams, connection };
}

async function readFigures(
  redis: AdminClient,
  stream: string,
  group: string,
  deadLetterStream: string,
  options: RedisStreamsHealthOptions,
  memory: DeadLetterMemory,
  now: number,
): Promise<StreamFigures> {
  const figures: StreamFigures = {};
  if (options.maxLag !== undefined || options.maxLagMs !== undefined) {
    const summary = (await describeGroups(redis, stream, now)).find((g) => g.group === group);
    if (summary?.lag !== undefined) figures.lag = summary.lag;
    if (summary?.lagMs !== undefined) figures.lagMs = summary.lagMs;
  }
  if (options.maxOldestPendingMs !== undefined) {
    figures.oldestPendingMs = (await pendingSummary(redis, stream, group, now)).oldestMs;
  }
  if (options.maxDeadLetterGrowth !== undefined) {
    const length = await redis.xlen(deadLetterStream);
    const before = memory.get(deadLetterStream);
    memory.set(deadLetterStream, length);
    figures.deadLetters = length;
    figures.deadLetterGrowth = before === undefined ? 0 : Math.max(0, length - before);
  }
  return figures;
}

function overThresholds(stream: string, figures: StreamFigures, options: RedisStreamsHealthOptions): string[] {
  const reasons: string[] = [];
  const over = (value: number | undefined, limit: number | undefined, what: string, unit: string): void => {
    if (value !== undefined && limit !== undefined && value > limit) reasons.push(`"${stream}": ${what} ${value}${unit} > ${limit}${unit}`);
  };
  over(figures.lag, options.maxLag, 'lag', ' entries');
  over(figures.lagMs, options.maxLagMs, 'lag age', ' ms');
  over(figures.oldestPendingMs, options.maxOldestPendingMs, 'oldest pending', ' ms');
  over(figures.deadLetterGrowth, options.maxDeadLetterGrowth, 'dead letters added since the last check', '');
  return reasons;
}
