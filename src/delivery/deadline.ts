/** Resolves when `promise` does, or at `deadline` (epoch ms), whichever comes first; never rejects on the deadline. */
export function waitUntil(promise: Promise<void>, deadline: number): Promise<void> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, remaining);
    }),
  ]).finally(() => clearTimeout(timer));
}
