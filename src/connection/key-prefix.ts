import { Command } from 'ioredis';
import { prefixedKey, unprefixedKey } from '../routing/key-prefix.js';

/** What {@link prefixesSubcommandKeys} needs of ioredis' `Command` class. */
interface CommandClass {
  new (name: string, args: string[], options: { keyPrefix: string }): { args: unknown[] };
}

let subcommandKeysPrefixed: boolean | undefined;

/**
 * Whether this copy of ioredis prefixes the key of a command with
 * subcommands itself (`XGROUP CREATE <key>`, `XINFO GROUPS <key>`). ioredis 6
 * does; ioredis 5 (its command table has no key positions for subcommands)
 * sends those keys as given, while it prefixes the keys of XADD, XREADGROUP,
 * XACK, XPENDING, XCLAIM, XRANGE, TYPE and of scripts' KEYS. Told by building
 * such a command, not by a version number.
 *
 * @param commandClass - ioredis' `Command` (another copy's, in tests)
 */
export function prefixesSubcommandKeys(commandClass: CommandClass = Command): boolean {
  const probe = new commandClass('xinfo', ['GROUPS', 'key'], { keyPrefix: 'prefix:' });
  return probe.args[1] === 'prefix:key';
}

/** A Redis or Cluster client: both keep their `keyPrefix` in `options`. */
interface PrefixedClient {
  readonly options: { readonly keyPrefix?: string | undefined };
}

/** The `keyPrefix` of a client, `''` for none. */
export function keyPrefixOfClient(redis: PrefixedClient): string {
  const prefix: unknown = redis.options.keyPrefix;
  return typeof prefix === 'string' ? prefix : '';
}

/**
 * The key argument to give an XGROUP or XINFO command on this client so that
 * it reaches Redis with the prefix exactly once: the name itself where ioredis
 * prefixes it, the prefixed name where it does not (ioredis 5).
 */
export function subcommandKey(redis: PrefixedClient, name: string): string {
  const prefix = keyPrefixOfClient(redis);
  if (prefix === '') return name;
  subcommandKeysPrefixed ??= prefixesSubcommandKeys();
  return subcommandKeyFor(prefix, subcommandKeysPrefixed, name);
}

/**
 * {@link subcommandKey} for a given prefix and ioredis behaviour.
 *
 * @param isPrefixedByIoredis - what {@link prefixesSubcommandKeys} says
 */
export function subcommandKeyFor(prefix: string, isPrefixedByIoredis: boolean, name: string): string {
  return isPrefixedByIoredis ? name : prefixedKey(prefix, name);
}

/**
 * The stream name (as bound) of a key named in a reply of this client: Redis
 * names keys as they are stored, prefix included (XREADGROUP's reply does).
 */
export function streamNameOf(redis: PrefixedClient, key: string): string {
  return unprefixedKey(keyPrefixOfClient(redis), key);
}
