import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY } from '../src/constants.js';
import { CONTENDERS, KINDS, contender, type Contender, type ContenderKind } from './contenders.js';
import { sizeLabel, type Settings } from './plan.js';
import type { RunResult } from './protocol.js';
import { int, intSpread, numSpread, ratio, spread, times, type Runs } from './stats.js';

/** Everything measured in one benchmark run. */
export interface BenchResults {
  readonly drain: Runs;
  readonly steady: Runs;
  readonly latency: Runs;
  /** Per backlog size. */
  readonly memory: ReadonlyMap<number, Runs>;
  readonly emit: Runs;
  /** Many streams: idle servers bound to many streams, and drains spread over many streams. */
  readonly streams: Runs;
  /** Broadcast: one group reader against instances that each read every entry. */
  readonly broadcast: Runs;
  /** Request-reply round trips per second with requests in flight (issue 14). */
  readonly rpcThroughput: Runs;
  /** Request-reply round-trip latency at a fixed rate (issue 14). */
  readonly rpcLatency: Runs;
  /** Runs that crashed or errored, with the reason. */
  readonly failures: readonly string[];
  /** Runs not started because the time budget was spent. */
  readonly skipped: readonly string[];
  /** Wall-clock seconds per scenario, pre-fill and process start included. */
  readonly wallSeconds: ReadonlyMap<string, number>;
  /** Median awaited PING round trip (µs), measured before the first run. */
  readonly roundTripUs?: number;
}

const rate = (r: RunResult): number => r.rate;
const p99 = (r: RunResult): number | undefined => r.latency?.p99;

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function notes(runs: Runs, contender: string): string {
  const all = runs.get(contender) ?? [];
  const done = all.filter((r): r is RunResult => r !== undefined);
  const parts: string[] = [];
  const failed = all.length - done.length;
  if (failed > 0) parts.push(`${failed} failed`);
  const capped = done.filter((r) => r.timedOut);
  if (capped.length > 0) parts.push(`hit the time cap in ${capped.length} run(s), handled ${capped.map((r) => int(r.messages)).join('/')}`);
  const unsettled = done.reduce((n, r) => n + (r.unsettled ?? 0), 0);
  if (unsettled > 0) parts.push(`${int(unsettled)} unsettled`);
  const lost = done.map((r) => r.lost ?? 0);
  if (lost.some((n) => n > 0)) parts.push(`lost ${lost.map(int).join('/')} events`);
  return parts.join('; ') || '';
}

/** A row's batch size or concurrency as the report shows it: ours' default where unset, else a dash. */
function setting(c: Contender, value: number | undefined, oursDefault: number): string {
  if (value !== undefined) return String(value);
  return c.kind === 'ours' || c.kind === 'ours-otel' || c.kind === 'ours-idle' || c.kind === 'ours-broadcast'
    ? `${oursDefault} (default)`
    : '–';
}

/** The contenders among `names`, in table order (bench/contenders.ts). */
function inTableOrder(names: Iterable<string>): Contender[] {
  const wanted = new Set(names);
  return CONTENDERS.filter((c) => wanted.has(c.name));
}

/** The contenders table (bench/contenders.ts), for the contenders named. */
export function contendersTable(names: Iterable<string>): string {
  const rows = inTableOrder(names).map((c) => [
    c.name,
    c.kind,
    setting(c, c.batchSize, DEFAULT_BATCH_SIZE),
    setting(c, c.concurrency, DEFAULT_CONCURRENCY),
    c.notes,
  ]);
  return table(['contender', 'kind', 'batch size', 'concurrency', 'notes'], rows);
}

/** One line per kind among the contenders named: what it runs. */
export function kindsLegend(names: Iterable<string>): string {
  const kinds = new Set<ContenderKind>(inTableOrder(names).map((c) => c.kind));
  return [...kinds].map((kind) => `- **${kind}**: ${KINDS[kind].description}`).join('\n');
}

/** Every contender that has a result in `results`. */
export function contendersIn(results: BenchResults): string[] {
  const all = [
    results.drain,
    results.steady,
    results.latency,
    ...results.memory.values(),
    results.emit,
    results.streams,
    results.broadcast,
    results.rpcThroughput,
    results.rpcLatency,
  ];
  return [...new Set(all.flatMap((runs) => [...runs.keys()]))];
}

/** (a) drain table. */
export function drainTable(runs: Runs): string {
  const rows = [...runs.keys()].map((c) => [
    c,
    intSpread(spread(runs, c, rate)),
    times(ratio(runs, c, 'raw-simple', rate)),
    times(ratio(runs, c, 'raw-pipelined', rate)),
    times(ratio(runs, c, 'nest-ceiling', rate)),
    notes(runs, c),
  ]);
  return table(['contender', 'msgs/s median (min–max)', '× raw-simple', '× raw-pipelined', '× nest-ceiling', 'notes'], rows);
}

/** (b) steady-state table. */
export function steadyTable(runs: Runs): string {
  const rows = [...runs.keys()].map((c) => [
    c,
    intSpread(spread(runs, c, rate)),
    times(ratio(runs, c, 'raw-simple', rate)),
    times(ratio(runs, c, 'nest-ceiling', rate)),
    intSpread(spread(runs, c, (r) => r.lagFinal)),
    intSpread(spread(runs, c, (r) => r.lagMax)),
    notes(runs, c),
  ]);
  return table(
    ['contender', 'msgs/s median (min–max)', '× raw-simple', '× nest-ceiling', 'lag at end (msgs)', 'max lag (msgs)', 'notes'],
    rows,
  );
}

/** (c) latency table. */
export function latencyTable(runs: Runs): string {
  const rows = [...runs.keys()].map((c) => [
    c,
    numSpread(spread(runs, c, (r) => r.latency?.p50)),
    numSpread(spread(runs, c, p99)),
    numSpread(
      spread(runs, c, (r) => r.latency?.max),
      1,
    ),
    times(ratio(runs, c, 'raw-simple', p99)),
    times(ratio(runs, c, 'raw-pipelined', p99)),
    intSpread(spread(runs, c, (r) => r.messages)),
    notes(runs, c),
  ]);
  return table(['contender', 'p50 ms', 'p99 ms', 'max ms', 'p99 × raw-simple', 'p99 × raw-pipelined', 'handled', 'notes'], rows);
}

/** (d) memory table: one row per contender and backlog size. */
export function memoryTable(memory: ReadonlyMap<number, Runs>): string {
  const sizes = [...memory.keys()].sort((a, b) => a - b);
  const smallest = sizes[0];
  const rows: string[][] = [];
  const contenders = new Set([...memory.values()].flatMap((runs) => [...runs.keys()]));
  for (const c of contenders) {
    for (const size of sizes) {
      const runs = memory.get(size)!;
      const peak = spread(runs, c, (r) => r.rssPeakMb);
      const base = smallest === undefined ? undefined : spread(memory.get(smallest)!, c, (r) => r.rssPeakMb);
      rows.push([
        c,
        sizeLabel(size),
        intSpread(spread(runs, c, rate)),
        numSpread(
          spread(runs, c, (r) => r.rssBaselineMb),
          0,
        ),
        numSpread(peak, 0),
        numSpread(
          spread(runs, c, (r) => r.heapPeakMb),
          0,
        ),
        numSpread(
          spread(runs, c, (r) => r.heapLiveMb),
          1,
        ),
        size === smallest || peak === undefined || base === undefined ? '' : times(peak.median / base.median),
        notes(runs, c),
      ]);
    }
  }
  return table(
    [
      'contender',
      'backlog',
      'msgs/s',
      'RSS at start (MiB)',
      'peak RSS (MiB)',
      'peak V8 heap (MiB)',
      'V8 heap in use after full GC (MiB)',
      `peak RSS vs ${smallest === undefined ? '' : sizeLabel(smallest)}`,
      'notes',
    ],
    rows,
  );
}

/** (e) producer table. */
export function emitTable(runs: Runs): string {
  const rows = [...runs.keys()].map((c) => [c, intSpread(spread(runs, c, rate)), times(ratio(runs, c, 'xadd-raw', rate)), notes(runs, c)]);
  return table(['producer', 'msgs/s median (min–max)', '× xadd-raw', 'notes'], rows);
}

/** (f) many streams: the idle rows' start-up, connections and idle cost, the drains' rates against one stream. */
export function streamsTable(runs: Runs): string {
  const rows = [...runs.keys()].map((c) => {
    const isIdle = contender(c).kind === 'ours-idle';
    return [
      c,
      int(contender(c).streams ?? 1),
      isIdle
        ? numSpread(
            spread(runs, c, (r) => r.startupMs),
            0,
          )
        : '',
      isIdle ? intSpread(spread(runs, c, (r) => r.connections)) : '',
      isIdle
        ? numSpread(
            spread(runs, c, (r) => r.idleCommandsPerS),
            1,
          )
        : '',
      isIdle
        ? numSpread(
            spread(runs, c, (r) => r.idleCpuPercent),
            2,
          )
        : '',
      isIdle ? '' : intSpread(spread(runs, c, rate)),
      isIdle ? '' : times(ratio(runs, c, 'streams-drain-1', rate)),
      [notes(runs, c), isIdle ? lastTop(runs, c) : ''].filter(Boolean).join('; '),
    ];
  });
  return table(
    [
      'contender',
      'streams',
      'start-up ms',
      'connections',
      'idle Redis cmds/s',
      'idle CPU % of a core',
      'drain msgs/s',
      '× streams-drain-1',
      'notes (idle: busiest commands, last round)',
    ],
    rows,
  );
}

/** (g) broadcast: each row's rate (a broadcast row's slowest instance) against one consumer-group reader. */
export function broadcastTable(runs: Runs): string {
  const cpu = (r: RunResult): number | undefined => r.cpuUsPerMessage;
  const rows = [...runs.keys()].map((c) => {
    const last = (runs.get(c) ?? []).filter((r): r is RunResult => r !== undefined).at(-1);
    const each = last?.instanceRates === undefined ? '' : last.instanceRates.map(int).join(' / ');
    return [
      c,
      int(contender(c).instances ?? 1),
      intSpread(spread(runs, c, rate)),
      times(ratio(runs, c, 'broadcast-group', rate)),
      each,
      numSpread(spread(runs, c, cpu), 2),
      times(ratio(runs, c, 'broadcast-group', cpu)),
      notes(runs, c),
    ];
  });
  return table(
    [
      'contender',
      'instances',
      'msgs/s per instance, median (min–max)',
      '× broadcast-group',
      'each instance, last round',
      'CPU µs per entry and instance',
      'CPU × broadcast-group',
      'notes',
    ],
    rows,
  );
}

/** (h) request-reply: round trips per second and latency, each against NestJS' Transport.REDIS. */
export function rpcTable(throughput: Runs, latency: Runs): string {
  const names = [...new Set([...throughput.keys(), ...latency.keys()])];
  const p50 = (r: RunResult): number | undefined => r.latency?.p50;
  const settlingP99 = (r: RunResult): number | undefined => r.settling?.p99;
  const rows = names.map((c) => [
    c,
    intSpread(spread(throughput, c, rate)),
    times(ratio(throughput, c, 'rpc-nest-redis', rate)),
    numSpread(spread(latency, c, p50)),
    numSpread(spread(latency, c, p99)),
    times(ratio(latency, c, 'rpc-nest-redis', p50)),
    times(ratio(latency, c, 'rpc-nest-redis', p99)),
    numSpread(spread(latency, c, settlingP99)),
    times(ratio(latency, c, 'rpc-nest-redis', settlingP99)),
    [notes(throughput, c), notes(latency, c)].filter(Boolean).join('; '),
  ]);
  return (
    table(
      [
        'contender',
        'round trips/s median (min–max)',
        '× rpc-nest-redis',
        'p50 ms',
        'p99 ms',
        'p50 × rpc-nest-redis',
        'p99 × rpc-nest-redis',
        'settling p99 ms',
        'settling p99 × rpc-nest-redis',
        'notes',
      ],
      rows,
    ) + protocolBound(throughput, latency)
  );
}

/**
 * What the two protocols cost on their own, without NestJS or either transport
 * (rpc-raw-streams against rpc-raw-pubsub, in the same rounds): the bound a
 * request-reply over streams has against one over pub/sub.
 */
function protocolBound(throughput: Runs, latency: Runs): string {
  if (!latency.has('rpc-raw-streams') || !latency.has('rpc-raw-pubsub')) return '';
  const p50 = (r: RunResult): number | undefined => r.latency?.p50;
  const of = (runs: Runs, metric: (r: RunResult) => number | undefined): string =>
    times(ratio(runs, 'rpc-raw-streams', 'rpc-raw-pubsub', metric));
  return (
    `\n\nThe protocols alone (hand-written loops, no NestJS), rpc-raw-streams × rpc-raw-pubsub: round trips/s ${of(throughput, rate)}, ` +
    `p50 ${of(latency, p50)}, p99 ${of(latency, p99)}.`
  );
}

/** The idle row's busiest commands in its last successful round. */
function lastTop(runs: Runs, c: string): string {
  const last = (runs.get(c) ?? []).filter((r): r is RunResult => r !== undefined).at(-1);
  return last?.idleTopCommands ?? '';
}

/** Every table, with headings. */
export function allTables(results: BenchResults, settings: Settings): string {
  const sections = [
    `### (a) Drain of a pre-filled backlog (${int(settings.drainCount)} messages)\n\n${drainTable(results.drain)}`,
    `### (b) Steady state with a concurrent producer (${settings.steadyMs / 1000} s)\n\n${steadyTable(results.steady)}`,
    `### (c) Latency, send to handler start, at ${int(settings.latencyRate)} msgs/s for ${settings.latencyMs / 1000} s\n\n${latencyTable(results.latency)}`,
    `### (d) Peak RSS of the consumer process while draining a backlog\n\n${memoryTable(results.memory)}`,
    `### (e) Producer: ${int(settings.emitCount)} messages\n\n${emitTable(results.emit)}`,
    `### (f) Many streams: idle servers (${settings.idleMs / 1000} s windows) and a drain of ${int(settings.streamsDrainCount)} messages in one stream or spread over many\n\n${streamsTable(results.streams)}`,
    `### (h) Request-reply: round trips/s with ${int(settings.rpcInFlight)} requests in flight, and latency at ${int(settings.rpcRate)} requests/s (${settings.rpcMs / 1000} s each; a latency window follows ${settings.rpcSettleMs / 1000} s of settling at that rate, whose own p99 is the settling column)\n\n${rpcTable(results.rpcThroughput, results.rpcLatency)}`,
  ];
  if (results.broadcast.size > 0) {
    sections.push(
      `### (g) Broadcast: a backlog of ${int(settings.broadcastCount)} messages drained by one group reader, or read in full by each broadcast instance\n\n${broadcastTable(results.broadcast)}`,
    );
  }
  const walls = [...results.wallSeconds].map(([scenario, seconds]) => `${scenario} ${seconds.toFixed(0)} s`);
  if (walls.length > 0)
    sections.push(`Wall-clock time per scenario (all rounds, pre-fill and process start included): ${walls.join(', ')}.`);
  if (results.failures.length > 0) {
    sections.push(`### Failed runs\n\n${results.failures.map((f) => `- ${f}`).join('\n')}`);
  }
  if (results.skipped.length > 0) {
    sections.push(`### Skipped runs (time budget)\n\n${results.skipped.map((f) => `- ${f}`).join('\n')}`);
  }
  return sections.join('\n\n');
}
