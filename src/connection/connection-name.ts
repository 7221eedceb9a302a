/**
 * What a connection of the server is for: `commands`; `read`, a consumer group's blocking reads;
 * `broadcast`, broadcast streams' blocking reads; `list`, a list queue's blocking connection (BLMOVE).
 */
export type ConnectionRole = 'commands' | 'read' | 'broadcast' | 'list';

/**
 * The CLIENT SETNAME name of a server connection: `nrs:<group>:<consumer>:<role>`.
 *
 * Group and consumer are percent-encoded where they hold a `:` or `%` (so that
 * the name splits back into its parts) or a byte outside `!`..`~` (Redis
 * refuses names with spaces or newlines, and ioredis ignores the refusal,
 * leaving the connection unnamed). Ordinary names stay as they are.
 *
 * @example
 * ```ts
 * connectionName('billing', 'host a:1', 'read'); // 'nrs:billing:host%20a%3A1:read'
 * ```
 */
export function connectionName(group: string, consumer: string, role: ConnectionRole): string {
  return `nrs:${encodeNamePart(group)}:${encodeNamePart(consumer)}:${role}`;
}

/** Percent-encodes the UTF-8 bytes of `part` that cannot appear as they are in a connection name. */
export function encodeNamePart(part: string): string {
  let encoded = '';
  for (const byte of Buffer.from(part, 'utf8')) {
    const isPlain = byte > 0x20 && byte < 0x7f && byte !== 0x3a && byte !== 0x25;
    encoded += isPlain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
