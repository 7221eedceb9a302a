import { GroupLookup, type GroupInfoSource } from '../../../src/client/group-lookup.js';
import { NoResponderError } from '../../../src/errors/no-responder.error.js';

/** Answers XINFO GROUPS from a table: a list of groups, or an error to throw; counts the calls. */
class FakeRedis implements GroupInfoSource {
  readonly options = {};
  calls = 0;
  constructor(private readonly answers: Record<string, unknown[] | Error>) {}
  xinfo(_subcommand: 'GROUPS', key: string): Promise<unknown> {
    this.calls += 1;
    const answer = this.answers[key];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? []);
  }
}

function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

describe('group lookup', () => {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) };

  it('looks a stream with a group up once, then trusts it without a promise', async () => {
    const redis = new FakeRedis({ orders: [['name', 'billing']] });
    const lookup = new GroupLookup(60_000, logger);
    await lookup.check(redis, 'orders');
    expect(lookup.check(redis, 'orders')).toBeUndefined();
    expect(redis.calls).toBe(1);
  });

  it('fails a stream without a group, or without the key, with NoResponderError, and looks again next time', async () => {
    const redis = new FakeRedis({ empty: [], gone: replyError('ERR no such key') });
    const lookup = new GroupLookup(60_000, logger);
    await expect(lookup.check(redis, 'empty')).rejects.toBeInstanceOf(NoResponderError);
    await expect(lookup.check(redis, 'gone')).rejects.toThrow('has no consumer group');
    await expect(lookup.check(redis, 'gone')).rejects.toBeInstanceOf(NoResponderError);
    expect(redis.calls).toBe(3);
  });

  it('sends anyway when the lookup itself is refused (ACL), and passes connection errors on', async () => {
    const redis = new FakeRedis({ denied: replyError('NOPERM this user has no permissions'), down: new Error('Connection is closed.') });
    const lookup = new GroupLookup(60_000, logger);
    await expect(lookup.check(redis, 'denied')).resolves.toBeUndefined();
    expect(lookup.check(redis, 'denied')).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('Could not look up the consumer groups of "denied"')]);
    await expect(lookup.check(redis, 'down')).rejects.toThrow('Connection is closed.');
  });
});
