import { maxEntriesPerPlan, planReads, type ReadCandidate, type ReadPlan } from '../../../src/delivery/read-plan.js';
import { readCountOf, readGroupKey } from '../../../src/delivery/read-group-key.js';

const idle = (free: number): ReadCandidate => ({ free, isCaughtUp: true });
const busy = (free: number): ReadCandidate => ({ free, isCaughtUp: false });
// A group's stream re-reading its own pending entries: entries are there, as with a backlog.
const ownPending = (free: number): ReadCandidate => ({ free, isCaughtUp: false });

/** Every read of a plan, the blocking one last. */
function readsOf(plan: ReadPlan) {
  return [...plan.fetches, ...(plan.wait === undefined ? [] : [plan.wait])];
}

/** The bounds every plan keeps, whatever the candidates. */
function expectBounded(
  candidates: readonly ReadCandidate[],
  readCount: number,
  plan: ReadPlan,
  maxEntries = maxEntriesPerPlan(readCount),
): void {
  const seen = new Set<number>();
  for (const read of readsOf(plan)) {
    expect(read.count).toBeGreaterThanOrEqual(1);
    expect(read.count).toBeLessThanOrEqual(readCount);
    for (const index of read.members) {
      // In one read at most, and never asked for more than its free slots.
      expect(seen.has(index)).toBe(false);
      seen.add(index);
      expect(read.count).toBeLessThanOrEqual(candidates[index]!.free);
    }
  }
  const fetched = plan.fetches.reduce((sum, read) => sum + read.count * read.members.length, 0);
  // Past maxEntries only when one stream's read alone is bigger.
  if (fetched > maxEntries) expect(plan.fetches.flatMap((read) => read.members)).toHaveLength(1);
}

describe('read plan', () => {
  it('reads streams waiting for new entries in one blocking read of a whole batch', () => {
    const candidates = [idle(200), idle(200), idle(150)];
    const plan = planReads(candidates, 100);
    expect(plan.fetches).toEqual([]);
    expect(plan.wait).toEqual({ members: [0, 1, 2], count: 100 });
    expectBounded(candidates, 100, plan);
  });

  it('lowers the blocking read to the fewest free slots of its streams: COUNT applies to each', () => {
    const candidates = [idle(200), idle(3), idle(90)];
    const plan = planReads(candidates, 100);
    expect(plan.wait).toEqual({ members: [0, 1, 2], count: 3 });
    expectBounded(candidates, 100, plan);
  });

  it('reads backlogs without blocking, streams that can take a whole batch together', () => {
    const candidates = [busy(100), busy(150), idle(200)];
    const plan = planReads(candidates, 100);
    expect(plan.fetches).toEqual([{ members: [0, 1], count: 100 }]);
    expect(plan.wait).toEqual({ members: [2], count: 100 });
    expectBounded(candidates, 100, plan);
  });

  it('groups partly busy backlogs by powers of two, so a nearly full stream does not shrink the others', () => {
    const candidates = [busy(100), busy(1), busy(7), busy(5), busy(64), busy(99)];
    const plan = planReads(candidates, 100);
    expect(plan.fetches).toEqual([
      { members: [0], count: 100 },
      { members: [4, 5], count: 64 },
      { members: [2, 3], count: 5 },
      { members: [1], count: 1 },
    ]);
    expect(plan.wait).toBeUndefined();
    expectBounded(candidates, 100, plan);
  });

  it('lets a stream alone in its level read every free slot it has', () => {
    expect(planReads([busy(99)], 100).fetches).toEqual([{ members: [0], count: 99 }]);
    expect(planReads([busy(150), busy(37)], 100).fetches).toEqual([
      { members: [0], count: 100 },
      { members: [1], count: 37 },
    ]);
  });

  it('re-reads own pending entries without blocking', () => {
    const candidates = [ownPending(200), ownPending(200), idle(200)];
    const plan = planReads(candidates, 100);
    expect(plan.fetches).toEqual([{ members: [0, 1], count: 100 }]);
    expect(plan.wait).toEqual({ members: [2], count: 100 });
  });

  it('hands over at most maxEntries from its reads that do not block; the rest wait for the next plan', () => {
    const candidates = Array.from({ length: 10 }, () => busy(200));
    const plan = planReads(candidates, 100, 300);
    expect(plan.fetches).toEqual([{ members: [0, 1, 2], count: 100 }]);
    expectBounded(candidates, 100, plan, 300);
    // One read always goes, even when a whole batch is more than maxEntries.
    expect(planReads([busy(500)], 500, 300).fetches).toEqual([{ members: [0], count: 500 }]);
  });

  it('keeps the blocking read of many streams within maxEntries, one entry each at the least', () => {
    const many = Array.from({ length: 50 }, () => idle(200));
    expect(planReads(many, 100, 1_000).wait?.count).toBe(20);
    const more = Array.from({ length: 2_000 }, () => idle(200));
    expect(planReads(more, 100, 1_000).wait?.count).toBe(1);
  });

  it('never plans a read for a stream without a free slot', () => {
    const candidates = [idle(0), busy(0), idle(1)];
    const plan = planReads(candidates, 10);
    expect(readsOf(plan).flatMap((read) => read.members)).toEqual([2]);
  });

  it('keeps its bounds for any mix of streams', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round += 1) {
      const readCount = 1 + random(120);
      const candidates = Array.from({ length: 1 + random(40) }, (): ReadCandidate => {
        const kind = random(3);
        const free = 1 + random(300);
        return kind === 0 ? idle(free) : kind === 1 ? busy(free) : ownPending(free);
      });
      expectBounded(candidates, readCount, planReads(candidates, readCount));
    }
  });
});

describe('read groups', () => {
  const single = (): string => '';

  it('puts streams together whose BLOCK and per-stream COUNT agree', () => {
    const base = { batchSize: 100, blockMs: 5_000, concurrency: 200 };
    expect(readGroupKey('a', base, single)).toBe(readGroupKey('b', { ...base, concurrency: 500 }, single));
    expect(readGroupKey('a', base, single)).not.toBe(readGroupKey('b', { ...base, blockMs: 1_000 }, single));
    expect(readGroupKey('a', base, single)).not.toBe(readGroupKey('b', { ...base, batchSize: 10 }, single));
    // A read never asks a stream for more than its concurrency.
    expect(readCountOf({ ...base, concurrency: 1 })).toBe(1);
    expect(readGroupKey('a', { ...base, concurrency: 1 }, single)).toBe(readGroupKey('b', { ...base, batchSize: 1 }, single));
  });

  it('keeps streams of different partitions (hash slots on a cluster) apart', () => {
    const base = { batchSize: 100, blockMs: 5_000, concurrency: 200 };
    const slotOf = (stream: string): string => (stream.startsWith('{x}') ? 'slot=1' : 'slot=2');
    expect(readGroupKey('{x}a', base, slotOf)).toBe(readGroupKey('{x}b', base, slotOf));
    expect(readGroupKey('{x}a', base, slotOf)).not.toBe(readGroupKey('c', base, slotOf));
  });
});
