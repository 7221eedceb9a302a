import { higherId, judgeTip, lastGeneratedIdOf, startPosition } from '../../../../src/consumers/broadcast/stream-tip.js';

describe('broadcast positions', () => {
  it("starts 'latest' at the stream's last id when the server starts, and a missing stream at its start", () => {
    expect(startPosition('latest', { lastId: '1700000000000-4' })).toBe('1700000000000-4');
    expect(startPosition('latest', 'missing')).toBe('0-0');
  });

  it('starts after a given id, or after 0-0 for the beginning, whatever the stream holds', () => {
    expect(startPosition({ after: '5-3' }, { lastId: '9-0' })).toBe('5-3');
    expect(startPosition({ after: '0-0' }, 'missing')).toBe('0-0');
  });

  it('keeps reading a stream whose tip is at or above the highest id known of it (trimmed, XDELed, written to)', () => {
    expect(judgeTip({ lastId: '10-0' }, '10-0')).toBe('same');
    expect(judgeTip({ lastId: '10-1' }, '10-0')).toBe('same');
    expect(judgeTip({ lastId: '1000-0' }, '999-99')).toBe('same');
  });

  it('finds a stream recreated when its tip is below the highest id known of it, compared as numbers', () => {
    expect(judgeTip({ lastId: '9-0' }, '10-0')).toBe('recreated');
    expect(judgeTip({ lastId: '5-9' }, '5-10')).toBe('recreated');
  });

  it('finds a stream gone when its key is missing', () => {
    expect(judgeTip('missing', '10-0')).toBe('vanished');
  });

  it('never restarts a stream it knew nothing of (missing on start, or read from an id past its end)', () => {
    expect(judgeTip('missing', undefined)).toBe('same');
    expect(judgeTip({ lastId: '1-0' }, undefined)).toBe('same');
  });

  it('keeps the higher of two ids', () => {
    expect(higherId('5-9', '5-10')).toBe('5-10');
    expect(higherId(undefined, '1-0')).toBe('1-0');
    expect(higherId('2-0', undefined)).toBe('2-0');
    expect(higherId(undefined, undefined)).toBeUndefined();
  });

  it('reads the last-generated-id out of an XINFO STREAM reply', () => {
    const reply = ['length', 2, 'radix-tree-keys', 1, 'last-generated-id', '7-1', 'groups', 0, 'first-entry', ['7-0', ['a', 'b']]];
    expect(lastGeneratedIdOf(reply)).toBe('7-1');
    expect(() => lastGeneratedIdOf(['length', 2])).toThrow(TypeError);
  });
});
