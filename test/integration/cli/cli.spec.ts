import { DEAD_LETTER_FIELDS } from '../../../src/index.js';
import { deadLetterFields, listEntryFields } from '../../../src/codec/dead-letter-record.js';
import { LIST_DEAD_LETTER_ID } from '../../../src/constants.js';
import { runCli, VERBS } from '../../../src/cli/run.js';
import { adminClient, redisUrl } from '../../support/redis.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function nrs(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { REDIS_URL: redisUrl() } });
  return { code, stdout, stderr };
}

async function json<T>(...argv: string[]): Promise<T> {
  const run = await nrs(...argv, '--json');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}

describe('the nrs CLI', () => {
  const scene = useScene('cli');
  const binary = Buffer.from([0xde, 0xad, 0x00, 0xff]);

  /** A dead letter as the transport writes it, with a binary field value and a binary field name. */
  async function addDeadLetter(dlq: string, stream: string, id: string): Promise<string> {
    const fields = deadLetterFields(
      {
        stream,
        id,
        group: scene.group,
        consumer: 'c1',
        deliveries: 16,
        error: 'Error: boom',
        fields: ['sku', 'A1', Buffer.from([0xc3, 0x28]), binary],
      },
      new Date(),
    );
    return (await scene.redis.xadd(dlq, '*', ...fields))!;
  }

  it('has --help on every verb, and exit code 2 for bad usage', async () => {
    for (const verb of VERBS) {
      const run = await nrs(...verb.name.split(' '), '--help');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: nrs ${verb.name}`);
    }
    expect((await nrs('--help')).code).toBe(0);
    expect((await nrs('nonsense')).code).toBe(2);
    expect(await nrs('groups')).toMatchObject({ code: 2, stderr: expect.stringContaining('missing arguments') as unknown });
    expect(await nrs('streams', '--bogus')).toMatchObject({ code: 2 });
    expect(await nrs('pending', 's', 'g', '--count', 'many')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--count') as unknown,
    });
  });

  it('fails with exit code 1 when Redis is not there, naming the URL without its password', async () => {
    const run = await nrs('streams', '--url', 'redis://user:secret@127.0.0.1:1');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot connect to redis://user:***@127.0.0.1:1');
    expect(run.stderr).toContain('ECONNREFUSED');
    expect(run.stderr).not.toContain('secret');
  });

  it('lists streams, groups, pending entries and lag', async () => {
    const { stream, group } = scene;
    const first = (await scene.redis.xadd(stream, '*', 'n', '1'))!;
    await scene.redis.xadd(stream, '*', 'n', '2');
    await scene.redis.xadd(stream, '*', 'n', '3');
    await scene.redis.xgroup('CREATE', stream, group, '0');
    await scene.redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 2, 'STREAMS', stream, '>');

    const streams = await json<Array<Record<string, unknown>>>('streams', '--match', stream);
    expect(streams).toEqual([
      expect.objectContaining({
        stream,
        length: 3,
        groups: 1,
        firstEntryId: first,
        firstEntryTime: new Date(Number(first.split('-')[0])).toISOString(),
      }),
    ]);
    const [summary] = await json<Array<Record<string, unknown>>>('groups', stream);
    expect(summary).toMatchObject({ group, pending: 2, consumers: [{ name: 'c1', pending: 2 }] });
    // Redis 6.2 has no lag of its own; 7.0 and later count it.
    expect([1, undefined]).toContain(summary!['lag']);
    const pending = await json<Record<string, unknown>>('pending', stream, group);
    expect(pending).toMatchObject({ count: 2, firstId: first, byConsumer: [{ consumer: 'c1', count: 2 }] });
    expect(pending['oldest']).toHaveLength(2);
    const lag = await json<Array<Record<string, unknown>>>('lag', '--match', stream);
    expect(lag).toEqual([expect.objectContaining({ stream, group, pending: 2 })]);
    // Human tables name the same things.
    expect((await nrs('groups', stream)).stdout).toMatch(new RegExp(`^${group}\\s+c1 \\(2\\)\\s+2`, 'm'));
    const watch = await nrs('lag', '--match', stream, '--watch', '--interval-ms', '10', '--rounds', '2');
    expect(watch.stdout.match(new RegExp(`^${stream}\\s`, 'gm'))).toHaveLength(2);
  });

  it('lists, shows and replays dead letters byte for byte; a dry run changes nothing', async () => {
    const { stream } = scene;
    const dlq = `{${stream}}:dlq`;
    const a = await addDeadLetter(dlq, stream, '1-1');
    const b = await addDeadLetter(dlq, stream, '1-2');
    const foreign = await addDeadLetter(dlq, 'another-stream', '1-3');

    const listed = await json<Array<Record<string, unknown>>>('dlq', 'list', stream);
    expect(listed.map((l) => l['deadLetterId'])).toEqual([a, b, foreign]);
    expect(listed[0]).toMatchObject({ stream, id: '1-1', group: scene.group, deliveries: 16, error: 'Error: boom' });
    const shown = await json<{ fields: unknown[] }>('dlq', 'show', stream, a);
    expect(shown.fields).toEqual([
      'sku',
      'A1',
      { base64: Buffer.from([0xc3, 0x28]).toString('base64') },
      { base64: binary.toString('base64') },
    ]);
    expect((await nrs('dlq', 'show', stream, a)).stdout).toContain('<4 bytes: dead00ff>');
    expect((await nrs('dlq', 'show', stream, '9-9')).code).toBe(1);

    const dry = await nrs('dlq', 'replay', stream, '--id', a);
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining(`would replay ${a}`) as unknown });
    expect(await scene.redis.xlen(dlq)).toBe(3);
    expect(await scene.redis.exists(stream)).toBe(0);

    const run = await nrs('dlq', 'replay', stream, '--all', '--execute');
    // The dead letter of another stream is refused (exit 1) and stays; the others are replayed.
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${foreign}: not replayed: it came from "another-stream"`);
    const replayed = await scene.redis.xrangeBuffer(stream, '-', '+');
    expect(replayed).toHaveLength(2);
    for (const [, fields] of replayed) {
      expect(fields).toEqual([Buffer.from('sku'), Buffer.from('A1'), Buffer.from([0xc3, 0x28]), binary]);
      expect(fields.map(String)).not.toContain(DEAD_LETTER_FIELDS.error);
    }
    expect((await scene.redis.xrange(dlq, '-', '+')).map(([id]) => id)).toEqual([foreign]);
  });

  it("replays a list queue's dead letters onto the list, byte for byte", async () => {
    const list = scene.name('jobs');
    const dlq = `{${list}}:dlq`;
    const entry = Buffer.from([0x00, 0x6e, 0xff, 0x10]);
    const fields = deadLetterFields(
      {
        stream: list,
        id: LIST_DEAD_LETTER_ID,
        group: scene.group,
        consumer: 'c1',
        deliveries: 3,
        error: 'Error: boom',
        fields: listEntryFields(entry),
      },
      new Date(),
    );
    const id = (await scene.redis.xadd(dlq, '*', ...fields))!;
    expect((await nrs('dlq', 'replay', list, '--id', id)).stdout).toContain('a list entry, with RPUSH');
    expect(await scene.redis.exists(list)).toBe(0);
    expect(await nrs('dlq', 'replay', list, '--id', id, '--execute')).toMatchObject({ code: 0 });
    expect(await scene.redis.lrangeBuffer(list, 0, -1)).toEqual([entry]);
    expect(await scene.redis.xlen(dlq)).toBe(0);
  });

  it('points at dead letters left under the default name before 0.2.0', async () => {
    await addDeadLetter(`${scene.stream}:dlq`, scene.stream, '1-1');
    const run = await nrs('dlq', 'list', scene.stream);
    expect(run.stdout).toContain(`Note: 1 dead letter(s) under "${scene.stream}:dlq", the default name before 0.2.0`);
    const old = await json<Array<Record<string, unknown>>>('dlq', 'list', scene.stream, '--dlq', `${scene.stream}:dlq`);
    expect(old).toHaveLength(1);
  });

  it('purges a dead-letter stream, after a dry run that keeps it', async () => {
    const dlq = scene.name('custom-dlq');
    await addDeadLetter(dlq, scene.stream, '1-1');
    expect(await json<Record<string, unknown>>('dlq', 'purge', scene.stream, '--dlq', dlq)).toEqual({
      dryRun: true,
      deadLetterStream: dlq,
      deadLetters: 1,
    });
    expect(await scene.redis.exists(dlq)).toBe(1);
    expect(await json<Record<string, unknown>>('dlq', 'purge', scene.stream, '--dlq', dlq, '--execute')).toMatchObject({
      dryRun: false,
      deadLetters: 1,
    });
    expect(await scene.redis.exists(dlq)).toBe(0);
  });

  it('claims and releases pending entries, keeping their delivery counts', async () => {
    const { stream, group } = scene;
    for (let i = 0; i < 3; i += 1) await scene.redis.xadd(stream, '*', 'n', String(i));
    await scene.redis.xgroup('CREATE', stream, group, '0');
    await scene.redis.xreadgroup('GROUP', group, 'dead', 'STREAMS', stream, '>');
    const owners = async () =>
      ((await scene.redis.xpending(stream, group, '-', '+', 10)) as Array<[string, string, number, number]>).map((e) => [e[1], e[3]]);

    expect(await json<Record<string, unknown>>('claim', stream, group, '--to', 'alive', '--count', '2')).toMatchObject({ dryRun: true });
    expect(await owners()).toEqual([
      ['dead', 1],
      ['dead', 1],
      ['dead', 1],
    ]);
    await json('claim', stream, group, '--to', 'alive', '--count', '2', '--execute');
    expect(await owners()).toEqual([
      ['alive', 1],
      ['alive', 1],
      ['dead', 1],
    ]);

    await json('release', stream, group, '--consumer', 'dead', '--execute');
    const [released] = (await scene.redis.xpending(stream, group, 'IDLE', 86_400_000, '-', '+', 10)) as Array<
      [string, string, number, number]
    >;
    expect(released).toEqual([expect.any(String), 'dead', expect.any(Number), 1]);
  });

  it('says a group is down with no live server, degraded past a threshold, as an exit code', async () => {
    const { stream, group } = scene;
    await scene.redis.xadd(stream, '*', 'n', '1');
    await scene.redis.xgroup('CREATE', stream, group, '0');
    await scene.redis.xreadgroup('GROUP', group, 'c1', 'STREAMS', stream, '>');
    expect(await nrs('health', stream, group)).toMatchObject({
      code: 1,
      stdout: expect.stringContaining(`no server of group "${group}" is connected`) as unknown,
    });
    const server = adminClient();
    await server.client('SETNAME', `nrs:${group}:c1:read`);
    expect(await nrs('health', stream, group)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^up/) as unknown });
    const degraded = await nrs('health', stream, group, '--max-oldest-pending-ms', '0', '--json');
    expect(degraded.code).toBe(0);
    expect(JSON.parse(degraded.stdout)).toMatchObject({ status: 'degraded', liveConsumers: ['c1'] });
    expect((await nrs('health', stream, group, '--max-oldest-pending-ms', '0', '--fail-on-degraded')).code).toBe(1);
    await server.quit();
  });

  it('resets a group only when it has no live consumers, and cleans up idle consumers', async () => {
    const { stream, group } = scene;
    const id = (await scene.redis.xadd(stream, '*', 'n', '1'))!;
    await scene.redis.xgroup('CREATE', stream, group, '$');
    await scene.redis.xgroup('CREATECONSUMER', stream, group, 'idle-one');
    // A connection named like a running server's, closed by this test.
    const server = adminClient();
    await server.client('SETNAME', `nrs:${group}:c1:read`);
    const refused = await nrs('reset', stream, group, '--to', '0', '--execute');
    expect(refused).toMatchObject({ code: 1, stdout: expect.stringContaining('"c1"') as unknown });
    await server.quit();
    await waitFor(async () => !((await scene.redis.client('LIST')) as string).includes(`name=nrs:${group}:`), {
      message: 'the connection gone',
    });
    expect(await nrs('reset', stream, group, '--to', 'yesterday')).toMatchObject({ code: 2 });
    await json('reset', stream, group, '--to', '0', '--execute');
    expect(await scene.redis.xreadgroup('GROUP', group, 'c2', 'STREAMS', stream, '>')).toEqual([[stream, [[id, ['n', '1']]]]]);

    expect(await json<Record<string, unknown>>('consumers', 'cleanup', stream, group, '--min-idle-ms', '0')).toEqual({
      dryRun: true,
      stream,
      group,
      consumers: ['idle-one'],
    });
    await json('consumers', 'cleanup', stream, group, '--min-idle-ms', '0', '--execute');
    const consumers = (await scene.redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
    // c2 owns a pending entry and stays.
    expect(consumers.map((c) => c[1])).toEqual(['c2']);
  });
});
