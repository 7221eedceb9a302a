import { compareEntryIds, isEntryId, normalEntryId } from '../../../src/codec/entry-id.js';

describe('entry ids', () => {
  it('orders sequences as numbers: …-9 before …-10', () => {
    expect(compareEntryIds('1700000000000-9', '1700000000000-10')).toBeLessThan(0);
    expect(compareEntryIds('1700000000000-10', '1700000000000-9')).toBeGreaterThan(0);
  });

  it('orders milliseconds as numbers, before sequences', () => {
    expect(compareEntryIds('999-0', '1000-0')).toBeLessThan(0);
    expect(compareEntryIds('999-99', '1000-0')).toBeLessThan(0);
    expect(compareEntryIds('5-0', '5-0')).toBe(0);
  });

  it('stays exact beyond 2^53, up to the 64-bit ids Redis allows', () => {
    expect(compareEntryIds('18446744073709551615-1', '18446744073709551615-0')).toBeGreaterThan(0);
    expect(compareEntryIds('9007199254740993-0', '9007199254740992-0')).toBeGreaterThan(0);
  });

  it('reads an id without a sequence as sequence 0, and leading zeros as nothing', () => {
    expect(normalEntryId('1700000000000')).toBe('1700000000000-0');
    expect(normalEntryId('0042-007')).toBe('42-7');
    expect(normalEntryId('0')).toBe('0-0');
    expect(compareEntryIds('42', '0042-0')).toBe(0);
  });

  it('sorts like Redis does', () => {
    const ids = ['10-0', '9-10', '9-9', '1-0', '100-1', '100-0'];
    expect([...ids].sort(compareEntryIds)).toEqual(['1-0', '9-9', '9-10', '10-0', '100-0', '100-1']);
  });

  it.each([['latest'], ['$'], ['1-2-3'], ['-1'], [''], ['1.5'], [42]])('refuses %p', (value) => {
    expect(isEntryId(value)).toBe(false);
    if (typeof value === 'string') expect(() => normalEntryId(value)).toThrow(RangeError);
  });
});
