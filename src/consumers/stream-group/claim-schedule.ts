import type { Redis } from 'ioredis';

/** Where entries are pending, and when pending entries become claimable. */
export interface ClaimScope {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly claimIdleMs: number;
}

/**
 * Leaves entries pending on `scope.consumer` with their idle time set so that
 * they reach `claimIdleMs`, and so become claimable by any consumer of the
 * group (this one included; XCLAIM lets only one win), after `delayMs`. This is
 * how a failed entry waits for its retry, and how shutdown hands work back
 * (`delayMs` 0). JUSTID keeps Redis' delivery counter unchanged.
 */
export function makeClaimableAfter(
  commands: Redis,
  scope: ClaimScope,
  ids: readonly string[],
  delayMs: number,
): Promise<unknown> {
  const idleMs = scope.claimIdleMs - Math.max(0, Math.min(delayMs, scope.claimIdleMs));
  return commands.xclaim(scope.stream, scope.group, scope.consumer, 0, ...ids, 'IDLE', idleMs, 'JUSTID');
}
