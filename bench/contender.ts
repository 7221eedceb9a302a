/**
 * Child-process entry: `node build/bench/contender.js '<job json>'`. Runs one
 * contender once and reports `@@bench {"type":"result",...}` on stdout.
 */
import 'reflect-metadata';
import { runConsumer } from './consumer-run.js';
import { runEmit } from './emit-run.js';
import { runProducer } from './producer.js';
import { tell, type Job, type RunResult } from './protocol.js';

function run(job: Job): Promise<RunResult> {
  switch (job.kind) {
    case 'consumer':
      return runConsumer(job);
    case 'producer':
      return runProducer(job);
    case 'emit':
      return runEmit(job);
  }
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: contender.js <job json>');
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
