/**
 * Waits `ms`, or less when `signal` aborts first (at once when it already has).
 *
 * @returns true when the time passed, false when the signal ended the wait
 */
export function abortablePause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', wake);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', wake);
  });
}
