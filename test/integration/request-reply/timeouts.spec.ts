import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { ClientClosedError, ReplyTimeoutError } from '../../../src/index.js';
import { REQUEST_FIELD } from '../../../src/constants.js';
import { fastOptions } from '../../support/apps.js';
import { freePort } from '../../support/local-redis.js';
import { useScene } from '../../support/scene.js';
import { deferred, waitFor, type Deferred } from '../../support/wait.js';

const GATE = 'GATE';

/** What the gated handler saw, and what lets it answer. */
interface Gate {
  readonly calls: unknown[];
  release: Deferred<void>;
}

describe('request-reply timeouts, deadlines and closing', () => {
  const scene = useScene('rpc-time');

  /** A server whose handler answers `{ answered: data }` once the gate is released. */
  async function startGated(): Promise<Gate> {
    const gate: Gate = { calls: [], release: deferred() };
    const pattern = `stream:${scene.stream}`;
    @Controller()
    class Gated {
      constructor(@Inject(GATE) private readonly state: Gate) {}
      @MessagePattern(pattern)
      async answer(@Payload() data: unknown) {
        this.state.calls.push(data);
        await this.state.release.promise;
        return { answered: data };
      }
    }
    await scene.start([Gated], fastOptions({ group: scene.group }), [{ provide: GATE, useValue: gate }]);
    return gate;
  }

  /** The reply stream a request entry names. */
  async function replyStreamOf(): Promise<string> {
    const [entry] = await scene.redis.xrange(scene.stream, '-', '+', 'COUNT', 1);
    const fields = entry![1];
    // "<correlation id> <deadline> <reply stream>"
    return fields[fields.indexOf(REQUEST_FIELD) + 1]!.split(' ')[2]!;
  }

  it('errors with a ReplyTimeoutError after replyTimeoutMs, and ignores the late reply', async () => {
    const gate = await startGated();
    const client = scene.newClient({ replyTimeoutMs: 300 });
    const pattern = `stream:${scene.stream}`;
    const late = lastValueFrom(client.send(pattern, 'late'));
    await expect(late).rejects.toBeInstanceOf(ReplyTimeoutError);
    await expect(late).rejects.toThrow(`send() to "${scene.stream}" got no reply within 300 ms (replyTimeoutMs)`);
    gate.release.resolve();
    // The late reply is written (the request acked), read, and dropped.
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the late request answered' });
    await waitFor(async () => (await scene.redis.xlen(await replyStreamOf())) === 1, { message: 'the late reply written' });
    await expect(lastValueFrom(client.send(pattern, 'next'))).resolves.toEqual({ answered: 'next' });
  });

  it('forgets a request whose caller unsubscribed', async () => {
    const gate = await startGated();
    const client = scene.newClient();
    const pattern = `stream:${scene.stream}`;
    const subscription = client.send(pattern, 'gone').subscribe({ next: () => undefined, error: () => undefined });
    await waitFor(() => gate.calls.length === 1, { message: 'the request handled' });
    subscription.unsubscribe();
    gate.release.resolve();
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the request answered' });
    await expect(lastValueFrom(client.send(pattern, 'next'))).resolves.toEqual({ answered: 'next' });
  });

  it('has a server skip, and ack, a request whose deadline passed before it was read', async () => {
    // The group exists (the send is not refused) but no server reads it yet.
    await scene.redis.xgroup('CREATE', scene.stream, scene.group, '$', 'MKSTREAM');
    const client = scene.newClient({ replyTimeoutMs: 100 });
    await expect(lastValueFrom(client.send(`stream:${scene.stream}`, 'stale'))).rejects.toBeInstanceOf(ReplyTimeoutError);
    const gate = await startGated();
    gate.release.resolve();
    const [[requestId]] = (await scene.redis.xrange(scene.stream, '-', '+')) as [[string, string[]]];
    await waitFor(
      async () => {
        const groups = (await scene.redis.xinfo('GROUPS', scene.stream)) as unknown[][];
        const info = groups[0]!;
        return info[info.indexOf('last-delivered-id') + 1] === requestId && (await scene.probe.pendingCount()) === 0;
      },
      { message: 'the stale request read and acked' },
    );
    expect(gate.calls).toEqual([]);
  });

  it('fails every waiting request with a ClientClosedError on close(), deletes its reply stream, and a late reply creates none', async () => {
    const gate = await startGated();
    const client = scene.newClient();
    const pattern = `stream:${scene.stream}`;
    const waiting = [1, 2, 3].map((n) => lastValueFrom(client.send(pattern, n)));
    await waitFor(() => gate.calls.length === 3, { message: 'three requests handled' });
    const replyStream = await replyStreamOf();
    const ttl = await scene.redis.pttl(replyStream);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await scene.close(client);
    for (const request of waiting) await expect(request).rejects.toBeInstanceOf(ClientClosedError);
    expect(await scene.redis.exists(replyStream)).toBe(0);
    gate.release.resolve();
    await waitFor(async () => (await scene.probe.pendingCount()) === 0, { message: 'the requests answered' });
    expect(await scene.redis.exists(replyStream)).toBe(0);
  });

  it('fails a send() whose connect fails with the socket error code on the error', async () => {
    const port = await freePort();
    const client = scene.newClient({ connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 2_000 });
    const failure: unknown = await lastValueFrom(client.send('stream:nowhere', 1)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
  });
});
