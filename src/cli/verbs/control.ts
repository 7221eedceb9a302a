import {
  claimPending,
  deleteConsumers,
  idleConsumers,
  liveConsumers,
  releasePending,
  resetGroup,
  selectPending,
} from '../../admin/group-control.js';
import { UsageError } from '../usage-error.js';
import type { Verb } from '../verb.js';
import { entryId, flag, listOption, stringOption, wholeOption } from '../values.js';
import { duration } from './inspect.js';

const EXECUTE_HELP = '  --execute           do it; without, print what would be done';
const SELECT_HELP =
  '  --id ID             a pending entry id (repeat for several)\n' +
  '  --min-idle-ms N     only entries idle at least N ms\n' +
  '  --count N           at most N entries, default 100';

/** `claim STREAM GROUP --to CONSUMER`: gives pending entries to a consumer. */
export const claimVerb: Verb = {
  name: 'claim',
  summary: 'give pending entries to a consumer (delivery counts kept)',
  usage: `nrs claim STREAM GROUP --to CONSUMER [--from CONSUMER] [--id ID ...] [--min-idle-ms N] [--count N] [--execute]\n\n  --to CONSUMER       the new owner\n  --from CONSUMER     only entries of this consumer\n${SELECT_HELP}\n${EXECUTE_HELP}`,
  options: {
    to: { type: 'string' },
    from: { type: 'string' },
    id: { type: 'string', multiple: true },
    'min-idle-ms': { type: 'string' },
    count: { type: 'string' },
    execute: { type: 'boolean' },
  },
  arity: [2, 2],
  changes: true,
  async run({ redis, out, positionals, values }) {
    const [stream, group] = positionals as [string, string];
    const to = stringOption(values, 'to');
    if (to === undefined) throw new UsageError('give the new owner with --to CONSUMER');
    const client = await redis();
    const entries = await selectPending(client, stream, group, {
      ids: listOption(values, 'id')?.map((id) => entryId(id, '--id')),
      from: stringOption(values, 'from'),
      minIdleMs: wholeOption(values, 'min-idle-ms', 0),
      limit: wholeOption(values, 'count', 100, 1),
    });
    if (!flag(values, 'execute')) {
      for (const e of entries)
        out.line(`would claim ${e.id} from "${e.consumer}" (idle ${duration(e.idleMs)}, ${e.deliveries} deliveries) for "${to}"`);
      out.line(`Dry run: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} would be claimed. Add --execute to do it.`);
      out.result({ dryRun: true, stream, group, to, ids: entries.map((e) => e.id) });
      return 0;
    }
    const claimed = await claimPending(
      client,
      stream,
      group,
      to,
      entries.map((e) => e.id),
    );
    out.line(`Claimed ${claimed.length} entr${claimed.length === 1 ? 'y' : 'ies'} for "${to}".`);
    out.result({ dryRun: false, stream, group, to, ids: claimed });
    return 0;
  },
};

/** `release STREAM GROUP`: makes pending entries claimable by any consumer at once. */
export const releaseVerb: Verb = {
  name: 'release',
  summary: 'make pending entries claimable by any live consumer at once',
  usage: `nrs release STREAM GROUP [--consumer CONSUMER] [--id ID ...] [--min-idle-ms N] [--count N] [--execute]\n\n  --consumer CONSUMER only entries of this consumer\n${SELECT_HELP}\n${EXECUTE_HELP}\n\nReleased entries stay with their owner, marked idle for ten years: the next pending scan of any live consumer of the group claims them.`,
  options: {
    consumer: { type: 'string' },
    id: { type: 'string', multiple: true },
    'min-idle-ms': { type: 'string' },
    count: { type: 'string' },
    execute: { type: 'boolean' },
  },
  arity: [2, 2],
  changes: true,
  async run({ redis, out, positionals, values }) {
    const [stream, group] = positionals as [string, string];
    const client = await redis();
    const entries = await selectPending(client, stream, group, {
      ids: listOption(values, 'id')?.map((id) => entryId(id, '--id')),
      from: stringOption(values, 'consumer'),
      minIdleMs: wholeOption(values, 'min-idle-ms', 0),
      limit: wholeOption(values, 'count', 100, 1),
    });
    if (!flag(values, 'execute')) {
      for (const e of entries) out.line(`would release ${e.id} of "${e.consumer}"`);
      out.line(`Dry run: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} would be released. Add --execute to do it.`);
      out.result({ dryRun: true, stream, group, ids: entries.map((e) => e.id) });
      return 0;
    }
    const released = await releasePending(client, stream, group, entries);
    out.line(`Released ${released.length} entr${released.length === 1 ? 'y' : 'ies'}.`);
    out.result({ dryRun: false, stream, group, ids: released });
    return 0;
  },
};

/** `reset STREAM GROUP --to ID`: moves the group's last delivered id; refused while its servers run. */
export const resetVerb: Verb = {
  name: 'reset',
  summary: "move a group's last delivered id (refused while the group has live consumers)",
  usage: `nrs reset STREAM GROUP --to ID [--execute]\n\n  --to ID             the new last delivered id: entries after it are delivered (again); 0 for the start, $ for the end\n${EXECUTE_HELP}\n\nRefused while a server of the group is connected (CLIENT LIST shows connections named nrs:GROUP:…): stop them first.`,
  options: { to: { type: 'string' }, execute: { type: 'boolean' } },
  arity: [2, 2],
  changes: true,
  async run({ redis, out, positionals, values }) {
    const [stream, group] = positionals as [string, string];
    const to = stringOption(values, 'to');
    if (to === undefined) throw new UsageError('give the new position with --to ID (0 for the start, $ for the end)');
    entryId(to, '--to', ['0', '$']);
    const client = await redis();
    const live = await liveConsumers(client, group);
    if (live.length > 0) {
      out.line(`Refused: group "${group}" has live consumers (${live.map((c) => `"${c}"`).join(', ')}). Stop its servers, then reset.`);
      out.result({ refused: true, stream, group, liveConsumers: live });
      return 1;
    }
    if (!flag(values, 'execute')) {
      out.line(`Dry run: would set the last delivered id of group "${group}" on "${stream}" to ${to}. Add --execute to do it.`);
      out.result({ dryRun: true, stream, group, to });
      return 0;
    }
    await resetGroup(client, stream, group, to);
    out.line(`Group "${group}" on "${stream}" now reads after ${to}.`);
    out.result({ dryRun: false, stream, group, to });
    return 0;
  },
};

/** `consumers cleanup STREAM GROUP`: deletes idle consumers that own nothing. */
export const consumersCleanupVerb: Verb = {
  name: 'consumers cleanup',
  summary: 'delete consumers of a group that own no pending entry and are idle',
  usage: `nrs consumers cleanup STREAM GROUP [--min-idle-ms N] [--execute]\n\n  --min-idle-ms N     only consumers idle at least N ms, default 3600000 (an hour)\n${EXECUTE_HELP}`,
  options: { 'min-idle-ms': { type: 'string' }, execute: { type: 'boolean' } },
  arity: [2, 2],
  changes: true,
  async run({ redis, out, positionals, values }) {
    const [stream, group] = positionals as [string, string];
    const client = await redis();
    const idle = await idleConsumers(client, stream, group, wholeOption(values, 'min-idle-ms', 3_600_000));
    if (!flag(values, 'execute')) {
      for (const c of idle) out.line(`would delete consumer "${c.name}" (idle ${duration(c.idleMs)}, nothing pending)`);
      out.line(`Dry run: ${idle.length} consumer(s) would be deleted. Add --execute to do it.`);
      out.result({ dryRun: true, stream, group, consumers: idle.map((c) => c.name) });
      return 0;
    }
    const deleted = await deleteConsumers(
      client,
      stream,
      group,
      idle.map((c) => c.name),
    );
    out.line(`Deleted ${deleted.length} consumer(s)${deleted.length > 0 ? `: ${deleted.map((c) => `"${c}"`).join(', ')}` : ''}.`);
    out.result({ dryRun: false, stream, group, consumers: deleted });
    return 0;
  },
};
