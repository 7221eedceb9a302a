import { argoEventOf, entryTime, entryUuid } from '../../../src/codec/argo-events-envelope.js';

describe('the argo-events envelope', () => {
  const origin = { stream: 'FOO', source: 'billing', subject: 'FOO' };

  it('has the shape the argo-events Redis Streams source dispatches', () => {
    const event = argoEventOf(origin, '1764594252123-0', ['key-1', 'val-1', 'key-2', 'val-2'], 0);
    expect(event).toEqual({
      context: {
        id: entryUuid('FOO', '1764594252123-0'),
        source: 'billing',
        specversion: '1.0',
        type: 'redisStream',
        datacontenttype: 'application/json',
        subject: 'FOO',
        time: '2025-12-01T13:04:12.123Z',
      },
      data: { stream: 'FOO', message_id: '1764594252123-0', values: { 'key-1': 'val-1', 'key-2': 'val-2' } },
    });
  });

  it('gives each entry its own id, the same every time, as a version-5 UUID', () => {
    const id = entryUuid('FOO', '1-0');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(entryUuid('FOO', '1-0')).toBe(id);
    expect(entryUuid('FOO', '1-1')).not.toBe(id);
    expect(entryUuid('BAR', '1-0')).not.toBe(id);
    // The stream and the id are kept apart: no two pairs hash the same text.
    expect(entryUuid('a1', '-0')).not.toBe(entryUuid('a', '1-0'));
  });

  it('reads the time from the entry id, in UTC, falling back when the id holds none a Date can show', () => {
    expect(entryTime('0-1', 5)).toBe('1970-01-01T00:00:00.000Z');
    expect(entryTime('18446744073709551615-0', 1_000)).toBe('1970-01-01T00:00:01.000Z');
    expect(entryTime('1764594252123', 0)).toBe('2025-12-01T13:04:12.123Z');
  });

  it('copies values as read: binary values stay Buffers, our own fields are not decoded', () => {
    const bytes = Buffer.from([0xff, 0x00]);
    const event = argoEventOf(
      origin,
      '1-0',
      ['content-type', 'application/vnd.nestjs-redis-streams.v1+json', 'data', '{"a":1}', 'bin', bytes],
      0,
    );
    expect(event.data.values).toEqual({ 'content-type': 'application/vnd.nestjs-redis-streams.v1+json', data: '{"a":1}', bin: bytes });
  });
});
