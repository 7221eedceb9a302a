import { decodeReply, encodeReply } from '../../../src/codec/reply-codec.js';
import { decodeFlat, encodeRequest, fromBytes, toBytes } from '../../../src/codec/stream-codec.js';
import { CORRELATION_ID_FIELD, DEADLINE_FIELD, REPLY_TO_FIELD } from '../../../src/constants.js';

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

  it('calls a request without a correlation id or a numeric deadline undecodable', () => {
    const fields = encodeRequest(1, undefined, address);
    const withoutId = fields.filter((_, i) => fields[i] !== CORRELATION_ID_FIELD && fields[i - 1] !== CORRELATION_ID_FIELD);
    expect(decodeFlat(withoutId)).toMatchObject({ kind: 'undecodable' });
    const badDeadline = fields.map((item, i) => (fields[i - 1] === DEADLINE_FIELD ? 'soon' : item));
    const bad = decodeFlat(badDeadline);
    expect(bad.kind).toBe('undecodable');
    expect(JSON.stringify(bad)).toContain(REPLY_TO_FIELD);
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
