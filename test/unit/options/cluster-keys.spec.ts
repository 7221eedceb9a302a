import { InvalidOptionsError } from '../../../src/index.js';
import { checkListSlots } from '../../../src/options/cluster-keys.js';

describe('list queue keys on a cluster', () => {
  const route = (list: string) => ({ pattern: `list:${list}`, list, consumer: 'w1' });

  it('accepts lists whose bookkeeping keys share their slot: untagged, tagged, and under a tagged keyPrefix', () => {
    expect(() => checkListSlots([route('jobs'), route('{shop}:jobs')])).not.toThrow();
    expect(() => checkListSlots([route('jobs')], '{shop}:')).not.toThrow();
    expect(() => checkListSlots([route('{t}:jobs')], 'shop:')).not.toThrow();
  });

  it('refuses an untagged list under a keyPrefix, naming both slots and the fix', () => {
    let error: unknown;
    try {
      checkListSlots([route('jobs')], 'shop:');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).option).toBe('list:jobs');
    expect((error as InvalidOptionsError).message).toContain('"shop:jobs" is in slot');
    expect((error as InvalidOptionsError).message).toContain('"shop:{jobs}:processing:w1" in slot');
    expect((error as InvalidOptionsError).message).toContain('("{jobs}")');
  });
});
