import { isObservable } from 'rxjs';
import { UnrecoverableError, UNRECOVERABLE_MARKER } from '../errors/unrecoverable.error.js';

/**
 * Waits for what a Nest handler returned: a Promise has already settled by the
 * time this is called; an Observable must complete. An Observable that errors
 * (which is what Nest's exception layer turns a throwing handler into) rejects,
 * so a failure can never be mistaken for success.
 */
export function awaitHandlerResult(result: unknown): Promise<void> | undefined {
  if (!isObservable(result)) return undefined;
  return new Promise((resolve, reject) => {
    result.subscribe({ error: reject, complete: resolve });
  });
}

/** Whether a handler failure asks for the dead-letter stream at once. */
export function isUnrecoverable(error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  return typeof error === 'object' && error !== null && (error as { kind?: unknown }).kind === UNRECOVERABLE_MARKER;
}

/**
 * Follows a handler's outcome to its end: `succeed` once its promise resolved
 * (and a returned Observable completed), `fail` with the error otherwise.
 * Without an async function of its own: per entry, only the handler's
 * promise and one `then` on it.
 */
export function followHandler(outcome: Promise<unknown>, succeed: () => void, fail: (error: unknown) => void): void {
  outcome.then((result) => {
    const completion = awaitHandlerResult(result);
    if (completion === undefined) succeed();
    else completion.then(succeed, fail);
  }, fail);
}
