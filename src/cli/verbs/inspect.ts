import { describeGroups, type GroupSummary } from '../../admin/groups.js';
import { pendingReport } from '../../admin/pending.js';
import { listStreams } from '../../admin/streams.js';
import { abortablePause } from '../../delivery/abortable-pause.js';
import { formatTable } from '../output.js';
import type { Verb } from '../verb.js';
import { flag, stringOption, wholeOption } from '../values.js';

const MATCH = { match: { type: 'string' } } as const;

/** `streams`: every stream with its length, groups, first and last entry. */
export const streamsVerb: Verb = {
  name: 'streams',
  summary: 'every stream with its length, groups, first and last entry time',
  usage: 'nrs streams [--match GLOB]\n\n  --match GLOB   only keys matching GLOB (SCAN MATCH), default *',
  options: MATCH,
  arity: [0, 0],
  async run({ redis, out, values }) {
    const streams = await listStreams(await redis(), stringOption(values, 'match'));
    out.result(streams, {
      columns: ['STREAM', 'LENGTH', 'GROUPS', 'FIRST ENTRY', 'LAST ENTRY'],
      rows: streams.map((s) => [s.stream, s.length, s.groups, s.firstEntryTime, s.lastEntryTime]),
    });
    return 0;
  },
};

/** `groups STREAM`: each group's consumers, pending, lag and last delivered entry. */
export const groupsVerb: Verb = {
  name: 'groups',
  summary: 'each group of a stream: consumers, pending, lag, last delivered',
  usage: 'nrs groups STREAM',
  options: {},
  arity: [1, 1],
  async run({ redis, out, positionals }) {
    const groups = await describeGroups(await redis(), positionals[0]!);
    out.result(groups, {
      columns: ['GROUP', 'CONSUMERS', 'PENDING', 'LAG', 'LAG AGE', 'LAST DELIVERED'],
      rows: groups.map((g) => [g.group, consumersCell(g), g.pending, g.lag, duration(g.lagMs), g.lastDeliveredId]),
    });
    return 0;
  },
};

/** `pending STREAM GROUP`: the summary, the oldest entries, and the count per consumer. */
export const pendingVerb: Verb = {
  name: 'pending',
  summary: 'pending entries of a group: summary, oldest entries, by consumer',
  usage: 'nrs pending STREAM GROUP [--count N]\n\n  --count N   oldest entries to list, default 10',
  options: { count: { type: 'string' } },
  arity: [2, 2],
  async run({ redis, out, positionals, values }) {
    const [stream, group] = positionals as [string, string];
    const report = await pendingReport(await redis(), stream, group, wholeOption(values, 'count', 10, 1));
    out.line(
      `${report.count} pending in group "${group}" of "${stream}"${report.count > 0 ? ` (ids ${report.firstId} … ${report.lastId})` : ''}`,
    );
    out.line('');
    out.line(formatTable({ columns: ['CONSUMER', 'PENDING'], rows: report.byConsumer.map((c) => [c.consumer, c.count]) }));
    out.result(report, {
      columns: ['ID', 'CONSUMER', 'IDLE', 'DELIVERIES'],
      rows: report.oldest.map((e) => [e.id, e.consumer, duration(e.idleMs), e.deliveries]),
    });
    return 0;
  },
};

/** `lag`: every group of every stream; `--watch` repeats it. */
export const lagVerb: Verb = {
  name: 'lag',
  summary: 'lag and pending of every group of every stream (--watch to repeat)',
  usage:
    'nrs lag [--match GLOB] [--watch [--interval-ms N] [--rounds N]]\n\n' +
    '  --match GLOB      only streams matching GLOB\n' +
    '  --watch           print again every --interval-ms (default 2000) until Ctrl-C, or --rounds times',
  options: { ...MATCH, watch: { type: 'boolean' }, 'interval-ms': { type: 'string' }, rounds: { type: 'string' } },
  arity: [0, 0],
  async run({ redis, out, values, signal }) {
    const client = await redis();
    const watch = flag(values, 'watch');
    const intervalMs = wholeOption(values, 'interval-ms', 2_000, 1);
    const rounds = watch ? wholeOption(values, 'rounds', Number.POSITIVE_INFINITY, 1) : 1;
    for (let round = 1; round <= rounds; round += 1) {
      const streams = await listStreams(client, stringOption(values, 'match'));
      const groups = (await Promise.all(streams.filter((s) => s.groups > 0).map((s) => describeGroups(client, s.stream)))).flat();
      if (watch) out.line(`${new Date().toISOString()}`);
      out.result(groups, {
        columns: ['STREAM', 'GROUP', 'LAG', 'LAG AGE', 'PENDING', 'CONSUMERS'],
        rows: groups.map((g) => [g.stream, g.group, g.lag, duration(g.lagMs), g.pending, g.consumers.length]),
      });
      if (round < rounds && !(await abortablePause(intervalMs, signal))) break;
    }
    return 0;
  },
};

function consumersCell(group: GroupSummary): string {
  return group.consumers.length === 0 ? '0' : group.consumers.map((c) => `${c.name} (${c.pending})`).join(', ');
}

/** A duration for people: `850 ms`, `12.3 s`, `4.5 min`, `2.0 h`, `3.0 d`. */
export function duration(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
