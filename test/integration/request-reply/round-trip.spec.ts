import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom, of, toArray } from 'rxjs';
import { InvalidOptionsError, NoResponderError, type RedisStreamsContext } from '../../../src/index.js';
import { createMicroservice } from '../../support/apps.js';
import { monitorLines } from '../../support/monitor.js';
import { fastOptions } from '../../support/apps.js';
import { useScene } from '../../support/scene.js';
import { waitFor } from '../../support/wait.js';

describe('request-reply: send() answered by @MessagePattern', () => {
  const scene = useScene('rpc');

  async function startEcho(): Promise<void> {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Echo {
      @MessagePattern(pattern)
      echo(@Payload() data: unknown): unknown {
        if (data === 'null') return null;
        if (data === 'zero') return 0;
        if (data === 'false') return false;
        return { echoed: data };
      }
    }
    await scene.start([Echo], fastOptions({ group: scene.group }));
  }

  it('writes the last reply and acknowledges its request in one script: no XACK of its own', async () => {
    await startEcho();
    const acks: string[] = [];
    const stop = await monitorLines(scene.redis, (line) => {
      const command = /^[\d.]+ \[\d+ ([^\]]+)\] "xack" "([^"]*)"/i.exec(line);
      if (command?.[2] === scene.stream) acks.push(command[1]!);
    });
    scene.defer(stop);
    const client = scene.newClient();
    await expect(lastValueFrom(client.send(`stream:${scene.stream}`, 1))).resolves.toEqual({ echoed: 1 });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the request acked' });
    await waitFor(() => acks.length === 1, { message: 'the XACK seen by MONITOR' });
    // Run by the script (MONITOR names "lua" as its source), not sent by the server on its own.
    expect(acks).toEqual(['lua']);
  });

  it('answers after Redis lost its scripts (SCRIPT FLUSH): the reply script is loaded again, the request acked', async () => {
    await startEcho();
    const client = scene.newClient();
    const pattern = `stream:${scene.stream}`;
    await expect(lastValueFrom(client.send(pattern, 1))).resolves.toEqual({ echoed: 1 });
    const evals: string[] = [];
    const stop = await monitorLines(scene.redis, (line) => {
      const command = /^[\d.]+ \[\d+ [^\]]+\] "(eval|evalsha)" /i.exec(line);
      // This test's request stream is the script's second key (the suite's files share the server).
      if (command !== null && line.includes(` "${scene.stream}" `)) evals.push(command[1]!.toLowerCase());
    });
    scene.defer(stop);
    await scene.redis.script('FLUSH');
    await expect(lastValueFrom(client.send(pattern, 2))).resolves.toEqual({ echoed: 2 });
    await expect(lastValueFrom(client.send(pattern, 3))).resolves.toEqual({ echoed: 3 });
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'both requests acked' });
    // EVALSHA refused (NOSCRIPT), EVAL loads the script, then EVALSHA again.
    await waitFor(() => evals.includes('eval') && evals.lastIndexOf('evalsha') > evals.indexOf('eval'), {
      message: 'EVAL after the flush, EVALSHA after that',
    });
  });

  it('round-trips an object, 0, false, an empty string and a string, and replies of null, 0 and false', async () => {
    await startEcho();
    const client = scene.newClient();
    const send = (data: unknown) => lastValueFrom(client.send<unknown>(`stream:${scene.stream}`, data));
    await expect(send({ a: 1, nested: { b: [null, 2] } })).resolves.toEqual({ echoed: { a: 1, nested: { b: [null, 2] } } });
    await expect(send(0)).resolves.toEqual({ echoed: 0 });
    await expect(send(false)).resolves.toEqual({ echoed: false });
    await expect(send('')).resolves.toEqual({ echoed: '' });
    await expect(send('text')).resolves.toEqual({ echoed: 'text' });
    await expect(send('null')).resolves.toBeNull();
    await expect(send('zero')).resolves.toBe(0);
    await expect(send('false')).resolves.toBe(false);
    // Every request acked once its reply was written.
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
  });

  it('streams the values of an Observable handler, ending with the last', async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Counter {
      @MessagePattern(pattern)
      count(@Payload() n: number) {
        return of(n, n + 1, n + 2);
      }
    }
    await scene.start([Counter], fastOptions({ group: scene.group }));
    const client = scene.newClient();
    await expect(lastValueFrom(client.send<number>(pattern, 5).pipe(toArray()))).resolves.toEqual([5, 6, 7]);
  });

  it('errors the caller with a thrown error as NestJS reports it, and with an RpcException payload intact', async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Failing {
      @MessagePattern(pattern)
      fail(@Payload() kind: string) {
        if (kind === 'rpc') throw new RpcException({ code: 'E_RPC', details: { field: 'sku' } });
        throw new Error('boom');
      }
    }
    await scene.start([Failing], fastOptions({ group: scene.group }));
    const client = scene.newClient();
    await expect(lastValueFrom(client.send(pattern, 'rpc'))).rejects.toEqual({ code: 'E_RPC', details: { field: 'sku' } });
    await expect(lastValueFrom(client.send(pattern, 'plain'))).rejects.toEqual({ status: 'error', message: 'Internal server error' });
    // Handler errors are answered, not retried: nothing stays pending.
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'nothing pending' });
    expect(await scene.redis.xlen(scene.stream)).toBe(2);
  });

  it('answers a request for a pattern with event handlers only with NestJS\' "no matching message handler"', async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class EventsOnly {
      @EventPattern<string>(pattern)
      onEvent(): void {
        throw new Error('must not run for a request');
      }
    }
    await scene.start([EventsOnly], fastOptions({ group: scene.group }));
    const client = scene.newClient();
    await expect(lastValueFrom(client.send(pattern, { a: 1 }))).rejects.toBe(
      'There is no matching message handler defined in the remote service.',
    );
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the request acked' });
  });

  it('fails at once for a stream without a consumer group', async () => {
    const client = scene.newClient({ replyTimeoutMs: 20_000 });
    const started = Date.now();
    await expect(lastValueFrom(client.send(`stream:${scene.stream}`, 1))).rejects.toBeInstanceOf(NoResponderError);
    await scene.redis.xadd(scene.stream, '*', 'a', '1');
    await expect(lastValueFrom(client.send(`stream:${scene.stream}`, 1))).rejects.toThrow('no consumer group');
    expect(Date.now() - started).toBeLessThan(5_000);
    // Nothing was written: no request entry for nobody.
    expect(await scene.redis.xlen(scene.stream)).toBe(1);
  });

  it("passes the dispatch hook's metadata to the handler's context", async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Meta {
      @MessagePattern(pattern)
      meta(@Ctx() ctx: RedisStreamsContext) {
        return ctx.getMetadata();
      }
    }
    await scene.start([Meta], fastOptions({ group: scene.group }));
    const client = scene.newClient();
    client.setOnDispatchHook((packet) => {
      packet.metadata = { traceparent: '00-abc-def-01' };
    });
    await expect(lastValueFrom(client.send(pattern, 1))).resolves.toEqual({ traceparent: '00-abc-def-01' });
  });

  it('refuses a pattern with both a @MessagePattern and @EventPattern handlers at start', async () => {
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Both {
      @MessagePattern(pattern)
      answer(): number {
        return 1;
      }
      @EventPattern<string>(pattern)
      onEvent(): void {
        return undefined;
      }
    }
    const { app } = await createMicroservice([Both], fastOptions({ group: scene.group }));
    scene.track(app);
    await expect(app.listen()).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('opens no reply stream and no second connection for a client that only emits', async () => {
    const redis = await scene.ownRedis();
    const admin = scene.admin(redis.url);
    const client = scene.newClient({ connection: redis.url });
    await lastValueFrom(client.emit(`stream:${scene.stream}`, { a: 1 }));
    expect(await admin.keys('*')).toEqual([scene.stream]);
    const names = ((await admin.client('LIST')) as string).split('\n').map((line) => /name=(\S*)/.exec(line)?.[1]);
    expect(names.filter((name) => name?.startsWith('nrs:'))).toEqual(['nrs:producer']);
  });
});
