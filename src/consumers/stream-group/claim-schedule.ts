import type { StreamScope } from './stream-scope.js';

/** Where entries are pending, and when pending entries become claimable. */
export type ClaimScope = Pick<StreamScope, 'commands' | 'stream' | 'group' | 'consumer' | 'options'>;

/**
 * Leaves entries pending on `scope.consumer` with their idle time set so that
 * they reach `claimIdleMs`, and so become claimable by any consumer of the
 * group (this one included; XCLAIM lets only one win), after `delayMs`. This is
 * how a failed entry waits for its retry, and how shutdown hands work back
 * (`delayMs` 0). JUSTID keeps Redis' delivery counter unchanged.
 */
export function makeClaimableAfter(scope: ClaimScope, ids: readonly string[], delayMs: number): Promise<unknown> {
  const { claimIdleMs } = scope.options;
  const idleMs = claimIdleMs - Math.max(0, Math.min(delayMs, claimIdleMs));
  return scope.commands.xclaim(scope.stream, scope.group, scope.consumer, 0, ...ids, 'IDLE', idleMs, 'JUSTID');
}
