import { deadLetterFields, readDeadLetterFields, type DeadLetterRecord } from '../../../src/codec/dead-letter-record.js';
import { DEAD_LETTER_FIELDS } from '../../../src/constants.js';

const record: DeadLetterRecord = {
  stream: 'orders',
  id: '1700000000000-0',
  group: 'billing',
  consumer: 'billing-1',
  deliveries: 5,
  error: 'Error: card declined',
  fields: ['sku', 'A1', Buffer.from([0xff, 0x00]), Buffer.from([0xfe])],
};

describe('dead-letter record', () => {
  it('writes the original fields byte for byte, then the origin fields in a fixed order', () => {
    const flat = deadLetterFields(record, new Date('2026-12-01T10:00:00.000Z'));
    expect(flat.slice(0, 4)).toEqual(record.fields);
    expect(flat.slice(4).filter((_, i) => i % 2 === 0)).toEqual(Object.values(DEAD_LETTER_FIELDS));
    expect(flat.at(-1)).toBe('2026-12-01T10:00:00.000Z');
  });

  it('reads back what it wrote, binary fields included', () => {
    const flat = deadLetterFields(record, new Date('2026-12-01T10:00:00.000Z'));
    expect(readDeadLetterFields(flat)).toEqual({ ...record, time: '2026-12-01T10:00:00.000Z' });
  });

  it('reads origin fields sent back by Redis as bytes', () => {
    const flat = deadLetterFields(record, new Date(0)).map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
    expect(readDeadLetterFields(flat)).toMatchObject({ stream: 'orders', deliveries: 5, time: new Date(0).toISOString() });
  });

  it('keeps an original field called like an origin field among the original fields', () => {
    const flat = deadLetterFields({ ...record, fields: [DEAD_LETTER_FIELDS.id, 'theirs'] }, new Date(0));
    expect(readDeadLetterFields(flat)).toMatchObject({ id: record.id, fields: [DEAD_LETTER_FIELDS.id, 'theirs'] });
  });

  it.each([
    ['an ordinary entry', ['sku', 'A1']],
    ['an odd field list', ['a']],
    [
      'origin fields out of order',
      [...deadLetterFields(record, new Date(0)).slice(0, 4), 'dlq-id', 'x', ...deadLetterFields(record, new Date(0)).slice(4, 16)],
    ],
    ['a delivery count that is not a number', deadLetterFields(record, new Date(0)).map((v) => (v === '5' ? 'five' : v))],
  ])('says undefined for %s', (_label, flat) => {
    expect(readDeadLetterFields(flat)).toBeUndefined();
  });
});
