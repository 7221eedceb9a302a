/** The settings that decide how a stream is read, and so which streams one XREADGROUP (or XREAD) can serve. */
export interface ReadSettings {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly concurrency: number;
}

/**
 * The most entries one read asks of a stream: `batchSize`, and never more
 * than the handler slots (`concurrency`) it has.
 */
export function readCountOf(options: ReadSettings): number {
  return Math.min(options.batchSize, options.concurrency);
}

/**
 * Which streams share one blocking `XREADGROUP ... STREAMS k1 k2 ...` (and so
 * one blocking connection): the streams whose keys are equal. Broadcast
 * streams (plain `XREAD`) are grouped by the same rule among themselves; a
 * group's streams and broadcast streams never share a read.
 *
 * One read has one BLOCK and one COUNT, and Redis applies COUNT to each stream
 * it names, so the streams of a read must agree on `blockMs` and on how many
 * entries a read may ask of each (`min(batchSize, concurrency)`); their other
 * options (`concurrency` above `batchSize`, retries, dead letters) may differ.
 * `partition` says where the stream's key lives: empty on a single Redis,
 * where any streams may be read together. On a cluster a multi-key command
 * must stay in one hash slot, so there it is the key's slot (which also
 * fixes the node that serves the read).
 *
 * @param stream - the stream key (only `partition` looks at it)
 * @param options - the stream's resolved options
 * @param partition - where `stream` lives, from {@link ConnectionSet.readPartition}
 * @example
 * ```ts
 * readGroupKey('orders', { batchSize: 100, blockMs: 5000, concurrency: 200 }, ''); // 'block=5000 count=100'
 * ```
 */
export function readGroupKey(stream: string, options: ReadSettings, partition: (stream: string) => string): string {
  const where = partition(stream);
  const how = `block=${options.blockMs} count=${readCountOf(options)}`;
  return where === '' ? how : `${where} ${how}`;
}

/**
 * The read groups of some bound streams (see {@link readGroupKey}): each as
 * the indexes of its streams in `bindings`, in binding order.
 */
export function readGroupsOf(
  bindings: ReadonlyArray<{ readonly stream: string; readonly options: ReadSettings }>,
  partition: (stream: string) => string,
): number[][] {
  const byKey = new Map<string, number[]>();
  bindings.forEach((binding, index) => {
    const key = readGroupKey(binding.stream, binding.options, partition);
    const members = byKey.get(key);
    if (members === undefined) byKey.set(key, [index]);
    else members.push(index);
  });
  return [...byKey.values()];
}
