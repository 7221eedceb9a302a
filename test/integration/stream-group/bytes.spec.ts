import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, RedisStreamsContext, UnrecoverableError } from '../../../src/index.js';
import { CONTENT_TYPE_BYTES, CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD } from '../../../src/constants.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor, type Deferred } from '../../support/wait.js';

const PROBE = 'PROBE';

/** Bytes a Go or redis-py producer may write: not UTF-8 (a lone 0xff, a NUL, a bad continuation). */
const BINARY = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x41]);
/** A field name that is not UTF-8 either. */
const BINARY_NAME = Buffer.from([0xfe, 0xff, 0x01]);

interface Delivery {
  data: unknown;
  raw: Array<[Buffer, Buffer]>;
  fields: Record<string, string | Buffer>;
}

class Probe {
  seen: Deferred<Delivery> = deferred<Delivery>();
  fail = false;
}

describe('bytes that are not UTF-8', () => {
  const scene = useScene('bytes');
  let probe: Probe;

  beforeEach(() => {
    probe = new Probe();
  });

  function controller() {
    @Controller()
    class BytesController {
      constructor(@Inject(PROBE) private readonly p: Probe) {}
      @EventPattern<string>(`stream:${scene.stream}`)
      handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
        this.p.seen.resolve({ data, raw: ctx.getRawFields(), fields: ctx.getFields() });
        if (this.p.fail) throw new UnrecoverableError('refused');
      }
    }
    return BytesController;
  }

  async function start(extra = {}) {
    await scene.start([controller()], fastOptions({ group: scene.group, consumer: 'c1', ...extra }), [{ provide: PROBE, useValue: probe }]);
  }

  it('hands a foreign entry over with text as strings and other bytes as Buffers, raw fields byte for byte', async () => {
    await start();
    const id = await scene.produce.add('sku', 'A1', 'blob', BINARY, BINARY_NAME, 'x');
    const seen = await probe.seen.promise;
    const data = seen.data as Record<string, unknown>;
    expect(data.sku).toBe('A1');
    expect(Buffer.isBuffer(data.blob)).toBe(true);
    expect((data.blob as Buffer).equals(BINARY)).toBe(true);
    expect(seen.fields).toBe(data);
    expect(seen.raw.flat().map((b) => b.toString('hex'))).toEqual((await scene.probe.entryBytes(id)).map((b) => b.toString('hex')));
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'ack' });
  });

  it('copies a binary entry to the dead-letter stream byte for byte, field names included', async () => {
    probe.fail = true;
    await start();
    const id = await scene.produce.add('blob', BINARY, BINARY_NAME, BINARY);
    const original = await scene.probe.entryBytes(id);
    await waitFor(async () => (await scene.probe.deadLetterCount()) === 1, { message: 'dead letter' });
    const [dead] = await scene.probe.deadLetterBytes();
    const copied = dead![1];
    expect(copied.slice(0, original.length).map((b) => b.toString('hex'))).toEqual(original.map((b) => b.toString('hex')));
    const names = copied
      .slice(original.length)
      .filter((_, i) => i % 2 === 0)
      .map(String);
    expect(names).toContain(DEAD_LETTER_FIELDS.id);
    expect(await scene.probe.pendingCount()).toBe(0);
  });

  it('keeps a real U+FFFD as text', async () => {
    await start();
    await scene.produce.add('note', 'bad byte: \uFFFD');
    const seen = await probe.seen.promise;
    expect((seen.data as Record<string, unknown>).note).toBe('bad byte: \uFFFD');
  });

  it('delivers a Buffer emitted by our client as that Buffer, whether or not it is UTF-8', async () => {
    await start();
    const id = await scene.produce.emit(BINARY);
    const first = await probe.seen.promise;
    expect(Buffer.isBuffer(first.data)).toBe(true);
    expect((first.data as Buffer).equals(BINARY)).toBe(true);
    const stored = await scene.probe.entryBytes(id);
    expect(stored.map(String).slice(0, 3)).toEqual([CONTENT_TYPE_FIELD, CONTENT_TYPE_BYTES, DATA_FIELD]);
    expect(stored[3]!.equals(BINARY)).toBe(true);

    probe.seen = deferred<Delivery>();
    const text = Buffer.from('plain ascii', 'utf8');
    await scene.produce.emit(text);
    const second = await probe.seen.promise;
    expect(Buffer.isBuffer(second.data)).toBe(true);
    expect((second.data as Buffer).equals(text)).toBe(true);
  });

  it('dead-letters an entry that claims our JSON format but is not UTF-8, byte for byte', async () => {
    await start();
    const id = await scene.produce.add(CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, BINARY);
    await waitFor(async () => (await scene.probe.deadLetterCount()) === 1, { message: 'dead letter' });
    const [dead] = await scene.probe.deadLetterBytes();
    expect(dead![1][3]!.equals(BINARY)).toBe(true);
    const error = dead![1].findIndex((b) => b.toString() === DEAD_LETTER_FIELDS.error);
    expect(dead![1][error + 1]!.toString()).toContain('not valid UTF-8');
    expect(dead![1][dead![1].findIndex((b) => b.toString() === DEAD_LETTER_FIELDS.id) + 1]!.toString()).toBe(id);
  });

  it('claims a binary entry from a dead consumer without altering it', async () => {
    const { redis, stream, group } = scene;
    const id = await scene.produce.add('blob', BINARY);
    await redis.xgroup('CREATE', stream, group, '0');
    // A consumer that read the entry and died.
    await redis.xreadgroup('GROUP', group, 'dead', 'COUNT', 1, 'STREAMS', stream, '>');
    await start({ claimIdleMs: 100 });
    const seen = await probe.seen.promise;
    expect(((seen.data as Record<string, unknown>).blob as Buffer).equals(BINARY)).toBe(true);
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: `ack of ${id}` });
  });
});
