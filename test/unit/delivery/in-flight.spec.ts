import { InFlightEntry, InFlightList } from '../../../src/delivery/in-flight.js';

describe('in-flight list', () => {
  const entries = (...ids: string[]): InFlightEntry[] => ids.map((id) => new InFlightEntry(id, 0));

  it('removes from the head, the middle and the tail, and counts what is left', () => {
    const list = new InFlightList();
    const [a, b, c, d] = entries('1-0', '2-0', '3-0', '4-0');
    for (const entry of [a, b, c, d]) list.add(entry!);
    expect(list.ids()).toEqual(['4-0', '3-0', '2-0', '1-0']);
    list.remove(d!);
    list.remove(b!);
    expect(list.ids()).toEqual(['3-0', '1-0']);
    list.remove(a!);
    expect(list.ids()).toEqual(['3-0']);
    expect(list.size).toBe(1);
    list.remove(c!);
    expect(list.ids()).toEqual([]);
    expect(list.size).toBe(0);
  });

  it('ignores removing an entry twice or adding one twice (an entry settles once, whoever asks)', () => {
    const list = new InFlightList();
    const [a, b] = entries('1-0', '2-0');
    list.add(a!);
    list.add(a!);
    list.add(b!);
    list.remove(a!);
    list.remove(a!);
    expect(list.ids()).toEqual(['2-0']);
    expect(list.size).toBe(1);
  });

  it('gives a snapshot that stays whole while entries are removed', () => {
    const list = new InFlightList();
    const all = entries('1-0', '2-0', '3-0');
    for (const entry of all) list.add(entry);
    const seen: string[] = [];
    for (const entry of list.entries()) {
      seen.push(entry.id);
      list.remove(entry);
    }
    expect(seen).toEqual(['3-0', '2-0', '1-0']);
    expect(list.size).toBe(0);
  });
});
