import { decodeEntry, encodeEntry, toFieldMap } from '../../src/codec/stream-codec.js';
import { CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, METADATA_FIELD } from '../../src/redis-streams.constants.js';

describe('stream codec', () => {
  it.each([[{ a: { b: null, c: [1, 'x'] } }], [0], [false], [''], ['text'], [[null]]])(
    'round-trips %j through the field list',
    (payload) => {
      const decoded = decodeEntry(toFieldMap(encodeEntry(payload)));
      expect(decoded).toEqual({ kind: 'envelope', data: payload, metadata: undefined });
    },
  );

  it('carries metadata next to the payload', () => {
    const decoded = decodeEntry(toFieldMap(encodeEntry({ a: 1 }, { traceId: 't-1' })));
    expect(decoded).toEqual({ kind: 'envelope', data: { a: 1 }, metadata: { traceId: 't-1' } });
  });

  it('refuses a payload JSON cannot represent', () => {
    expect(() => encodeEntry(undefined)).toThrow('cannot be JSON-encoded');
  });

  it('hands foreign entries over as the field map, even with a field called data', () => {
    expect(decodeEntry({ sku: 'A1', data: '{"x":1}' })).toEqual({ kind: 'fields', data: { sku: 'A1', data: '{"x":1}' } });
    expect(decodeEntry({ [CONTENT_TYPE_FIELD]: 'text/plain', data: 'x' })).toEqual({
      kind: 'fields',
      data: { [CONTENT_TYPE_FIELD]: 'text/plain', data: 'x' },
    });
  });

  it('calls an entry that claims our format but does not parse undecodable', () => {
    expect(decodeEntry({ [CONTENT_TYPE_FIELD]: CONTENT_TYPE_JSON, [DATA_FIELD]: '{' }).kind).toBe('undecodable');
    expect(decodeEntry({ [CONTENT_TYPE_FIELD]: CONTENT_TYPE_JSON }).kind).toBe('undecodable');
    expect(
      decodeEntry({ [CONTENT_TYPE_FIELD]: CONTENT_TYPE_JSON, [DATA_FIELD]: '1', [METADATA_FIELD]: '[1]' }).kind,
    ).toBe('undecodable');
  });

  it('builds a field map from a flat list, ignoring a dangling field', () => {
    expect(toFieldMap(['a', '1', 'b', '2', 'c'])).toEqual({ a: '1', b: '2' });
  });
});
