import { types } from 'node:util';
import { RedisStreamsError } from './redis-streams.error.js';
import { RedisCommandError } from './redis-command.error.js';

/** The part of an ioredis reply error that names its command. */
interface CommandCarrier {
  readonly command?: { readonly name?: unknown };
}

/** Properties of Node's socket errors worth keeping: none of them carries a secret. */
const SAFE_PROPERTIES = ['code', 'errno', 'syscall', 'address', 'port'] as const;

/**
 * A copy of a thrown value that is safe to log, throw on or keep as a `cause`:
 * ioredis attaches the failed command with all its arguments (a password, a
 * payload) to its reply errors; the copy keeps only the command's name, `key`
 * and Redis' reply text. Other errors keep their name, message and socket
 * details; their `cause` chain is redacted the same way.
 *
 * @param key - the key the failed command worked on, if any
 */
export function redactError(error: unknown, key?: string): Error {
  if (error instanceof RedisStreamsError && !hasCommand(error)) return error;
  // isNativeError also knows errors of another realm (Node's socket errors under Jest's VM modules).
  if (!(error instanceof Error || types.isNativeError(error))) {
    return new Error(typeof error === 'string' ? error : 'non-error thrown');
  }
  const name = (error as CommandCarrier).command?.name;
  if (typeof name === 'string') {
    const copy = new RedisCommandError(name, key, error.message);
    return copy;
  }
  const cause = (error as { cause?: unknown }).cause;
  const copy = new Error(error.message, cause === undefined ? undefined : { cause: redactError(cause) });
  copy.name = error.name;
  const target = copy as unknown as Record<string, unknown>;
  const source = error as unknown as Record<string, unknown>;
  for (const property of SAFE_PROPERTIES) {
    if (source[property] !== undefined) target[property] = source[property];
  }
  return copy;
}

function hasCommand(error: Error): boolean {
  return (error as CommandCarrier).command !== undefined;
}
