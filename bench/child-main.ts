/**
 * Child-process entry: `node build/bench/child-main.js '<job json>'`. Runs one
 * contender once and reports `@@bench {"type":"result",...}` on stdout.
 */
import { tell, type Job, type RunResult } from './protocol.js';

/** Runs the job; each kind is imported on demand so a child loads only what it needs. */
async function run(job: Job): Promise<RunResult> {
  switch (job.kind) {
    case 'consumer':
      return (await import('./consumer-run.js')).runConsumer(job);
    case 'producer':
      return (await import('./producer.js')).runProducer(job);
    case 'emit':
      return (await import('./emit-run.js')).runEmit(job);
    case 'rpc':
      return (await import('./rpc-run.js')).runRpc(job);
  }
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: child-main.js <job json>');
  const result = await run(JSON.parse(raw) as Job);
  await tell({ type: 'result', result });
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await tell({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);
