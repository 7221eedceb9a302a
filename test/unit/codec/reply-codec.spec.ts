import { decodeReply, encodeReply } from '../../../src/codec/reply-codec.js';
import { decodeFlat, encodeRequest, fromBytes, toBytes } from '../../../src/codec/stream-codec.js';
import { REPLY_FIELD, REPLY_PART_FIELD, REQUEST_FIELD } from '../../../src/constants.js';

describe('request and reply codec', () => {
  const address = { id: 'abc', replyTo: 'nrs:reply:1', deadline: 1_700_000_000_000 };

  it('decodes a request with where to answer it, and an event without', () => {
    expect(decodeFlat(encodeRequest({ a: 1 }, { t: 1 }, address))).toEqual({
      kind: 'envelope',
      data: { a: 1 },
      metadata: { t: 1 },
      request: address,
    });
    expect(decodeFlat(encodeRequest(0, undefined, address))).toMatchObject({ data: 0, request: address });
  });

  it('writes where to answer in one field, "<correlation id> <deadline> <reply stream>"', () => {
    const fields = encodeRequest(1, undefined, address);
    expect(fields[fields.indexOf(REQUEST_FIELD) + 1]).toBe('abc 1700000000000 nrs:reply:1');
    const spaced = { ...address, replyTo: 'app reply 1' };
    expect(decodeFlat(encodeRequest(1, undefined, spaced))).toMatchObject({ request: spaced });
  });

  it.each([[''], ['abc'], ['abc 17'], ['abc 17 '], [' 17 nrs:reply:1'], ['abc soon nrs:reply:1'], ['abc  nrs:reply:1']])(
    'calls a request whose request field is %j undecodable, naming the field',
    (value) => {
      const fields = encodeRequest(1, undefined, address).map((item, i, all) => (all[i - 1] === REQUEST_FIELD ? value : item));
      const bad = decodeFlat(fields);
      expect(bad.kind).toBe('undecodable');
      expect(JSON.stringify(bad)).toContain(REQUEST_FIELD);
    },
  );

  it('marks the last reply of a request apart from the ones before it', () => {
    expect(encodeReply('id-1', { response: 1, isDisposed: true })[0]).toBe(REPLY_FIELD);
    expect(encodeReply('id-1', { response: 1 })[0]).toBe(REPLY_PART_FIELD);
    expect(decodeReply(encodeReply('id-1', { response: 1 }))).toMatchObject({ packet: { isDisposed: false } });
    expect(decodeReply(encodeReply('id-1', { err: { status: 'error' } }))).toMatchObject({ packet: { isDisposed: true } });
  });

  it.each([[null], [0], [false], [''], [{ a: [1, null] }]])('round-trips the response %j', (response) => {
    expect(decodeReply(encodeReply('id-1', { response, isDisposed: true }))).toEqual({
      kind: 'reply',
      id: 'id-1',
      packet: { response, isDisposed: true },
    });
  });

  it('round-trips a Buffer response byte for byte', () => {
    const bytes = Buffer.from([0, 255, 254, 1]);
    const flat = fromBytes(encodeReply('id-1', { response: bytes }).map(toBytes));
    expect(decodeReply(flat)).toEqual({ kind: 'reply', id: 'id-1', packet: { response: bytes, isDisposed: false } });
  });

  it('carries an error as it is, an Error as NestJS reports errors, and ends the request with it', () => {
    expect(decodeReply(encodeReply('e', { err: { code: 42 } }))).toEqual({
      kind: 'reply',
      id: 'e',
      packet: { err: { code: 42 }, isDisposed: true },
    });
    expect(decodeReply(encodeReply('e', { err: new Error('boom') }))).toMatchObject({
      packet: { err: { status: 'error', message: 'boom' } },
    });
    expect(decodeReply(encodeReply('e', { err: 'text' }))).toMatchObject({ packet: { err: 'text' } });
  });

  it('marks the end of a request without a response', () => {
    expect(decodeReply(encodeReply('d', { isDisposed: true }))).toEqual({ kind: 'reply', id: 'd', packet: { isDisposed: true } });
    expect(decodeReply(['x', 'y'])).toMatchObject({ kind: 'undecodable' });
  });
});
