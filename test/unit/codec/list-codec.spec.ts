import { decodeListEntry, encodeListEntry, readStoredEntry, wrapForRetry, LIST_MARKER } from '../../../src/codec/list-codec.js';

function bytes(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

describe('list codec', () => {
  it('round-trips what our client writes: JSON values (0, false, empty strings, nulls inside) and Buffers', () => {
    for (const payload of [{ a: 1, b: null }, 0, false, '', 'text', [1, 'x'], { nested: { deep: [null] } }]) {
      expect(decodeListEntry(bytes(encodeListEntry(payload)))).toEqual({ kind: 'envelope', data: payload, metadata: undefined });
    }
    const buffer = Buffer.from([0x00, 0xff, 0x0a, 0x7b]);
    const decoded = decodeListEntry(bytes(encodeListEntry(buffer)));
    expect(decoded).toEqual({ kind: 'envelope', data: buffer, metadata: undefined });
  });

  it('carries metadata for JSON and bytes', () => {
    const metadata = { traceparent: '00-abc', n: 1 };
    expect(decodeListEntry(bytes(encodeListEntry({ x: 'a\nb' }, metadata)))).toEqual({ kind: 'envelope', data: { x: 'a\nb' }, metadata });
    const buffer = Buffer.from('line1\nline2');
    expect(decodeListEntry(bytes(encodeListEntry(buffer, metadata)))).toEqual({ kind: 'envelope', data: buffer, metadata });
    expect(encodeListEntry('x', {})).toBe(`${LIST_MARKER}j:"x"`);
  });

  it('hands foreign entries over as they are: text (JSON-looking or not) as strings, other bytes as Buffers', () => {
    for (const text of ['plain', '{"a":1}', '42', '', 'nrs1:j:1', '\u0000other']) {
      expect(decodeListEntry(bytes(text))).toEqual({ kind: 'foreign', data: text });
    }
    const binary = Buffer.from([0xff, 0xfe]);
    expect(decodeListEntry(binary)).toEqual({ kind: 'foreign', data: binary });
  });

  it('calls an entry that claims our marker but does not decode undecodable, without quoting it', () => {
    const bad = decodeListEntry(bytes(`${LIST_MARKER}j:{secret`));
    expect(bad).toEqual({ kind: 'undecodable', reason: 'list entry data is not valid JSON (7 bytes)' });
    expect(decodeListEntry(bytes(`${LIST_MARKER}x:1`)).kind).toBe('undecodable');
    expect(decodeListEntry(bytes(`${LIST_MARKER}J:{"a":1}`)).kind).toBe('undecodable');
    expect(decodeListEntry(bytes(`${LIST_MARKER}J:[1]\n1`))).toEqual({
      kind: 'undecodable',
      reason: 'list entry metadata is not a JSON object',
    });
  });

  it('wraps an entry handed back with its delivery count, and reads it back byte for byte', () => {
    const entry = Buffer.from([0xff, 0x3a, 0x00]);
    const wrapped = wrapForRetry(3, 'abc1', entry);
    expect(readStoredEntry(wrapped)).toEqual({ deliveries: 3, entry });
    expect(readStoredEntry(wrapForRetry(1, 'x', wrapped))).toEqual({ deliveries: 1, entry: wrapped });
    expect(readStoredEntry(bytes('plain'))).toEqual({ deliveries: 0, entry: bytes('plain') });
    // What the recovery script writes for an entry never handed back: id '-'.
    expect(readStoredEntry(bytes(`${LIST_MARKER}r:1:-:job`))).toEqual({ deliveries: 1, entry: bytes('job') });
    const malformed = bytes(`${LIST_MARKER}r:x:1:job`);
    expect(readStoredEntry(malformed)).toEqual({ deliveries: 0, entry: malformed });
  });
});
