import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { RedisConnection } from '../interfaces/connection.interface.js';

/**
 * The ioredis `keyPrefix` a connection setting carries (`''` for none): in
 * ioredis options, in a URL's query (`redis://host?keyPrefix=shop:`, which
 * ioredis reads as an option), or in an ioredis instance's options.
 *
 * Every key name the transport works with is the name without the prefix:
 * ioredis puts the prefix in front of the keys of the commands it sends (see
 * the README's keyPrefix section for what ioredis 5 leaves out), so in Redis
 * every key carries it exactly once.
 */
export function keyPrefixOf(connection: RedisConnection): string {
  if (typeof connection === 'string') return keyPrefixOfUrl(connection);
  const options: unknown = 'duplicate' in connection && typeof connection.duplicate === 'function' ? connection.options : connection;
  const prefix = (options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
  return typeof prefix === 'string' ? prefix : '';
}

function keyPrefixOfUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return '';
  return new URLSearchParams(url.slice(query + 1)).get('keyPrefix') ?? '';
}

/**
 * The key as it is in Redis: the prefix in front of the name.
 *
 * @example
 * ```ts
 * prefixedKey('shop:', '{orders}:dlq'); // 'shop:{orders}:dlq'
 * ```
 */
export function prefixedKey(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/**
 * The name of a key Redis returned (XREADGROUP's reply names its streams as
 * they are in Redis): the prefix taken off once. A key without the prefix is
 * returned as it is.
 *
 * @example
 * ```ts
 * unprefixedKey('shop:', 'shop:orders'); // 'orders'
 * unprefixedKey('shop:', 'shop:shop:orders'); // 'shop:orders'
 * ```
 */
export function unprefixedKey(prefix: string, key: string): string {
  return prefix !== '' && key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

/**
 * Whether a name would carry the prefix twice in Redis: it starts with the
 * prefix, and the prefix ends in a separator (`shop:` and `shop:orders`, not
 * `app` and `apple`), so the user most likely wrote the prefix in the name too.
 */
export function repeatsKeyPrefix(prefix: string, name: string): boolean {
  return prefix !== '' && /[^\p{L}\p{N}]$/u.test(prefix) && name.startsWith(prefix);
}

/**
 * Refuses key names that already start with the `keyPrefix`: ioredis adds it
 * itself, so the key in Redis would carry it twice (`shop:shop:orders`).
 *
 * @param option - names the option or pattern in the error
 * @throws InvalidOptionsError naming the key and the name to use instead
 */
export function assertPrefixOnce(prefix: string, name: string, option: string): void {
  if (!repeatsKeyPrefix(prefix, name)) return;
  throw new InvalidOptionsError(
    option,
    `the key "${name}" starts with the connection's keyPrefix "${prefix}", which ioredis adds to every key itself, so in Redis it would be "${prefix}${name}". Name it without the prefix ("${name.slice(prefix.length)}").`,
  );
}
