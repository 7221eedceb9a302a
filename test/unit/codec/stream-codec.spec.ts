import { decodeFlat, encodeEntry, fromBytes, mayHaveLostBytes, toBytes, toFieldMap } from '../../../src/codec/stream-codec.js';
import { CONTENT_TYPE_BYTES, CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, METADATA_FIELD } from '../../../src/constants.js';

describe('stream codec', () => {
  it.each([[{ a: { b: null, c: [1, 'x'] } }], [0], [false], [''], ['text'], [[null]]])(
    'round-trips %j through the field list',
    (payload) => {
      const decoded = decodeFlat(encodeEntry(payload));
      expect(decoded).toEqual({ kind: 'envelope', data: payload, metadata: undefined });
    },
  );

  it('carries metadata next to the payload', () => {
    const decoded = decodeFlat(encodeEntry({ a: 1 }, { traceId: 't-1' }));
    expect(decoded).toEqual({ kind: 'envelope', data: { a: 1 }, metadata: { traceId: 't-1' } });
  });

  it('refuses a payload JSON cannot represent', () => {
    expect(() => encodeEntry(undefined)).toThrow('cannot be JSON-encoded');
  });

  it('hands foreign entries over as the field map, even with a field called data', () => {
    expect(decodeFlat(['sku', 'A1', 'data', '{"x":1}'])).toEqual({ kind: 'fields', data: { sku: 'A1', data: '{"x":1}' } });
    expect(decodeFlat([CONTENT_TYPE_FIELD, 'text/plain', 'data', 'x'])).toEqual({
      kind: 'fields',
      data: { [CONTENT_TYPE_FIELD]: 'text/plain', data: 'x' },
    });
  });

  it('calls an entry that claims our format but does not parse undecodable', () => {
    expect(decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, '{']).kind).toBe('undecodable');
    expect(decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON]).kind).toBe('undecodable');
    expect(decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, '1', METADATA_FIELD, '[1]']).kind).toBe('undecodable');
  });

  it('builds a field map from a flat list, ignoring a dangling field', () => {
    expect(toFieldMap(['a', '1', 'b', '2', 'c'])).toEqual({ a: '1', b: '2' });
  });

  it('says why JSON does not parse without quoting the text', () => {
    const decoded = decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, '{"card":"4111 1111 SECRET']);
    expect(decoded).toEqual({ kind: 'undecodable', reason: '"data" is not valid JSON (25 bytes)' });
    const metadata = decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, '1', METADATA_FIELD, '{SECRET']);
    expect(metadata.kind === 'undecodable' && metadata.reason).toBe('"metadata" is not valid JSON (7 bytes)');
  });

  it('writes a Buffer as its bytes under its own content type and reads it back as a Buffer', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x41]);
    const fields = encodeEntry(bytes);
    expect(fields.slice(0, 3)).toEqual([CONTENT_TYPE_FIELD, CONTENT_TYPE_BYTES, DATA_FIELD]);
    expect(fields[3]).toBe(bytes);
    const decoded = decodeFlat(fields);
    expect(decoded.kind === 'envelope' && Buffer.isBuffer(decoded.data) && decoded.data.equals(bytes)).toBe(true);
    // Bytes that happen to be UTF-8 are read as text; they still reach the handler as a Buffer.
    const text = decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_BYTES, DATA_FIELD, 'abc']);
    expect(text.kind === 'envelope' && Buffer.isBuffer(text.data) && text.data.toString()).toBe('abc');
  });

  it('tells text that may have lost bytes, and keeps bytes that are not UTF-8 as Buffers', () => {
    expect(mayHaveLostBytes(['a', 'plain', 'b', 'ünïcödé ✓'])).toBe(false);
    expect(mayHaveLostBytes(['a', 'x\uFFFDy'])).toBe(true);
    const binary = Buffer.from([0xc3, 0x28]);
    const flat = fromBytes([Buffer.from('name'), binary, Buffer.from('ü'), Buffer.from('ü')]);
    expect(flat.slice(0, 1)).toEqual(['name']);
    expect(flat[1]).toBe(binary);
    expect(flat.slice(2)).toEqual(['ü', 'ü']);
    expect(flat.map(toBytes).map((b) => b.toString('hex'))).toEqual(['6e616d65', 'c328', 'c3bc', 'c3bc']);
  });

  it('refuses our JSON format when the data is not UTF-8', () => {
    const decoded = decodeFlat([CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, Buffer.from([0xff])]);
    expect(decoded).toEqual({ kind: 'undecodable', reason: '"data" is not valid UTF-8 (1 bytes), so not JSON' });
  });
});
