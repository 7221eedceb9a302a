import { parseClaimReply } from '../../../../src/consumers/stream-group/claim-reply.js';

describe('XCLAIM reply', () => {
  const requested = ['1-1', '2-1', '3-1', '9-9'];

  it('takes Redis 7 replies, which leave deleted entries out, as they are', () => {
    expect(
      parseClaimReply(
        [
          ['1-1', ['a', '1']],
          ['3-1', ['c', '3']],
        ],
        requested,
      ),
    ).toEqual({
      entries: [
        ['1-1', ['a', '1']],
        ['3-1', ['c', '3']],
      ],
      possiblyDeleted: [],
    });
  });

  it('never hands a Redis 6.2 nil to a handler, and lists the ids that may be the deleted ones', () => {
    // 6.2: 2-1 was deleted while pending (nil in its place); 9-9 was not claimable (left out).
    const reply = parseClaimReply([['1-1', ['a', '1']], null, ['3-1', ['c', '3']]], requested);
    expect(reply.entries).toEqual([
      ['1-1', ['a', '1']],
      ['3-1', ['c', '3']],
    ]);
    expect(reply.possiblyDeleted).toEqual(['2-1', '9-9']);
  });

  it('reads an empty or missing reply as nothing claimed', () => {
    expect(parseClaimReply([], requested)).toEqual({ entries: [], possiblyDeleted: [] });
    expect(parseClaimReply(null, requested)).toEqual({ entries: [], possiblyDeleted: [] });
    expect(parseClaimReply([null], ['5-5'])).toEqual({ entries: [], possiblyDeleted: ['5-5'] });
  });
});
