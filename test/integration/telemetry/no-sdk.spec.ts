import { trace } from '@opentelemetry/api';
import { lastValueFrom } from 'rxjs';
import type { RedisStreamsContext } from '../../../src/index.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { streamsController } from '../../support/stream-handlers.js';
import { waitFor } from '../../support/wait.js';

describe('telemetry: the API installed, no SDK registered', () => {
  const scene = useScene('otel-n');

  it('delivers as usual, adds no metadata keys and runs handlers outside any span', async () => {
    const seen: Array<{ metadata: Record<string, unknown>; hasSpan: boolean }> = [];
    const handler = streamsController([scene.stream], (_stream, _data, ctx: RedisStreamsContext) => {
      seen.push({ metadata: ctx.getMetadata(), hasSpan: trace.getActiveSpan() !== undefined });
    });
    await scene.start([handler], fastOptions({ group: scene.group, consumer: 'c1' }));
    await lastValueFrom(scene.client.emit(`stream:${scene.stream}`, { order: 1 }));
    await lastValueFrom(scene.client.emit(`list:${scene.name('list')}`, 'job'));
    await waitFor(() => seen.length === 1, { message: 'the delivery' });
    expect(seen).toEqual([{ metadata: {}, hasSpan: false }]);
    const entries = await scene.redis.xrange(scene.stream, '-', '+');
    expect(entries.flatMap(([, fields]) => fields)).not.toContain('metadata');
  });
});
