import { deadLetterStreamOf } from '../../admin/dead-letters.js';
import { liveConsumers } from '../../admin/group-control.js';
import { judgeHealth } from '../../health/health-check.js';
import { RedisStreamsStatus } from '../../interfaces/status.enum.js';
import type { Verb } from '../verb.js';
import { flag, stringOption, wholeOption } from '../values.js';

/** `health STREAM GROUP`: the health indicator's verdict on a group, from Redis, as an exit code. */
export const healthVerb: Verb = {
  name: 'health',
  summary: "a group's health as an exit code: 0 up (or degraded), 1 down",
  usage:
    'nrs health STREAM GROUP [--max-lag N] [--max-lag-ms N] [--max-oldest-pending-ms N] [--dlq KEY] [--fail-on-degraded]\n\n' +
    '  --max-lag N               degraded when more than N entries wait for the group\n' +
    '  --max-lag-ms N            degraded when the oldest entry not yet delivered waited longer than N ms\n' +
    '  --max-oldest-pending-ms N degraded when the oldest pending entry is older than N ms\n' +
    '  --fail-on-degraded        exit 1 when degraded too\n\n' +
    'Down when no server of the group is connected (CLIENT LIST shows no nrs:GROUP:… connection). The same verdict as the Terminus indicator, judged from Redis.',
  options: {
    'max-lag': { type: 'string' },
    'max-lag-ms': { type: 'string' },
    'max-oldest-pending-ms': { type: 'string' },
    dlq: { type: 'string' },
    'fail-on-degraded': { type: 'boolean' },
  },
  arity: [2, 2],
  async run({ redis, out, positionals, values }) {
    const [stream, group] = positionals as [string, string];
    const client = await redis();
    const live = await liveConsumers(client, group);
    const threshold = (name: string): number | undefined => (values[name] === undefined ? undefined : wholeOption(values, name, 0));
    const verdict = await judgeHealth(
      {
        kind: 'server',
        status: live.length > 0 ? RedisStreamsStatus.CONNECTED : RedisStreamsStatus.DISCONNECTED,
        statusSince: 0,
        isClosing: false,
        failures: [],
        group,
        streams: [{ stream, deadLetterStream: deadLetterStreamOf(stream, stringOption(values, 'dlq')) }],
        commands: client,
      },
      { maxLag: threshold('max-lag'), maxLagMs: threshold('max-lag-ms'), maxOldestPendingMs: threshold('max-oldest-pending-ms') },
    );
    const reasons = live.length > 0 ? verdict.reasons : [`no server of group "${group}" is connected`];
    out.line(`${verdict.status}${live.length > 0 ? ` (live consumers: ${live.map((c) => `"${c}"`).join(', ')})` : ''}`);
    for (const reason of reasons) out.line(`  ${reason}`);
    out.result({ status: verdict.status, liveConsumers: live, reasons, streams: verdict.streams });
    return verdict.status === 'down' || (verdict.status === 'degraded' && flag(values, 'fail-on-degraded')) ? 1 : 0;
  },
};
