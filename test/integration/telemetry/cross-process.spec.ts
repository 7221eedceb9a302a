import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { fastOptions } from '../../support/apps.js';
import { useOtelSdk } from '../../support/otel.js';
import { redisUrl } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { streamsController } from '../../support/stream-handlers.js';
import { waitFor } from '../../support/wait.js';

/** The producer child program, compiled by global setup (tsconfig.fixtures.json). */
const PRODUCER_PROGRAM = fileURLToPath(new URL('../../../build/fixtures/test/fixtures/otel-producer.js', import.meta.url));

describe('telemetry: across processes', () => {
  const sdk = useOtelSdk();
  const scene = useScene('otel-x');

  it('makes the consumer’s process span a child of the send span of another process', async () => {
    const handled: string[] = [];
    const handler = streamsController([scene.stream], (_stream, _data, ctx) => {
      handled.push(ctx.getMessageId());
    });
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1' }));
    const { stdout } = await promisify(execFile)(process.execPath, [PRODUCER_PROGRAM], {
      env: { ...process.env, NRS_OTEL_PRODUCER: JSON.stringify({ url: redisUrl(), stream: scene.stream }) },
      timeout: 30_000,
    });
    const sent = JSON.parse(stdout.trim()) as { traceId: string; spanId: string; id: string };
    await waitFor(() => sdk.spansNamed(`process ${scene.stream}`).length === 1, { message: 'the process span' });
    const [processed] = sdk.spansNamed(`process ${scene.stream}`);
    expect(handled).toEqual([sent.id]);
    expect(processed?.kind).toBe(SpanKind.CONSUMER);
    expect(processed?.attributes['messaging.message.id']).toBe(sent.id);
    expect(processed?.spanContext().traceId).toBe(sent.traceId);
    expect(processed?.parentSpanContext?.spanId).toBe(sent.spanId);
    expect(processed?.parentSpanContext?.isRemote).toBe(true);
  });
});
