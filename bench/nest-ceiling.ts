import { BaseRpcContext, type MessageHandler } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { CeilingServer, createBenchApp } from './nest-app.js';
import type { Probe } from './probe.js';
import { KEYS } from './protocol.js';
import type { EntryHandler } from './raw-loop.js';

/** Waits for what a Nest handler returned, the way a transport must: an Observable has to complete. */
function settle(result: unknown): Promise<void> | undefined {
  if (!isObservable(result)) return undefined;
  return new Promise((resolve, reject) => {
    result.subscribe({ error: reject, complete: resolve });
  });
}

/**
 * Starts a Nest microservice on a do-nothing transport and returns its real
 * `@EventPattern` handler, wrapped for the raw loop, plus a way to close it.
 */
export async function nestCeilingHandler(probe: Probe): Promise<{ handle: EntryHandler; close: () => Promise<void> }> {
  const server = new CeilingServer();
  const app = await createBenchApp(probe, { strategy: server });
  await app.listen();
  const handler: MessageHandler | null = server.getHandlerByPattern(KEYS.pattern);
  if (handler === null) throw new Error(`no Nest handler for ${KEYS.pattern}`);
  return {
    handle: async (payload, id) => {
      const result: unknown = await handler(payload, new BaseRpcContext([KEYS.stream, id]));
      await settle(result);
    },
    close: () => app.close(),
  };
}
