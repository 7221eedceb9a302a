import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { UnrecoverableError } from '../../../src/index.js';
import { deadLetterKeyOf, legacyDeadLetterKeyOf } from '../../../src/routing/key-names.js';
import { fastOptions } from '../../support/apps.js';
import { readmeBlock } from '../../support/readme.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

/** The Lua script and key arguments of the README's `redis-cli EVAL "<script>" 2 <old> <new>` recipe. */
function moveRecipe(): { script: string; keys: [string, string] } {
  const match = /^redis-cli EVAL "([\s\S]+)" 2 (\S+) (\S+)$/.exec(readmeBlock('move-dead-letters'));
  if (match === null) throw new Error('the README recipe is not `redis-cli EVAL "<script>" 2 <old> <new>`');
  const unquote = (word: string) => word.replace(/^'(.*)'$/, '$1');
  return { script: match[1]!, keys: [unquote(match[2]!), unquote(match[3]!)] };
}

describe("the dead-letter stream's default name", () => {
  const scene = useScene('dln');

  it('is {<stream>}:dlq for a stream without a hash tag and <stream>:dlq for one with a tag', async () => {
    const tagged = `{${scene.name('shop')}}:orders`;
    @Controller()
    class Poisoned {
      @EventPattern<string>(`stream:${scene.stream}`)
      plain() {
        throw new UnrecoverableError('poison');
      }
      @EventPattern<string>(`stream:${tagged}`)
      withTag() {
        throw new UnrecoverableError('poison');
      }
    }
    await scene.start([Poisoned], fastOptions({ group: scene.group }));
    await scene.produce.add('n', '1');
    await scene.produce.with({ stream: tagged }).add('n', '2');
    await waitFor(async () => (await scene.redis.exists(`{${scene.stream}}:dlq`, `${tagged}:dlq`)) === 2, {
      message: 'both dead letters under their default names',
    });
    expect(await scene.redis.exists(legacyDeadLetterKeyOf(scene.stream))).toBe(0);
  });

  it('the README recipe moves dead letters from the old name to the new one, into an existing stream too, fields unchanged', async () => {
    const { script, keys } = moveRecipe();
    expect(keys).toEqual(['orders:dlq', '{orders}:dlq']);
    const stream = scene.stream;
    const [from, to] = [legacyDeadLetterKeyOf(stream), deadLetterKeyOf(stream)];
    await scene.redis.xadd(from, '*', 'data', '{"n":1}', 'dlq-id', '1-0', 'dlq-error', 'old');
    await scene.redis.xadd(from, '*', 'bytes', Buffer.from([0xff, 0x00]), 'dlq-id', '2-0');
    await scene.redis.xadd(to, '*', 'data', '{"n":3}', 'dlq-id', '3-0');
    const before = (await scene.redis.xrangeBuffer(from, '-', '+')).map(([, flat]) => flat);

    expect(await scene.redis.eval(script, 2, from, to)).toBe(2);

    expect(await scene.redis.exists(from)).toBe(0);
    const after = (await scene.redis.xrangeBuffer(to, '-', '+')).map(([, flat]) => flat);
    expect(after).toHaveLength(3);
    expect(after.slice(1)).toEqual(before);
  });
});
