import { StreamConfigurationError } from './stream-configuration.error.js';

/** One thing a Redis user may not do: run a command, or touch a key. */
export interface MissingPermission {
  /** The command as ACL rules name it, lower case: `xreadgroup`, `xgroup|create`. */
  readonly command: string;
  /** The key the command was denied on; absent when the command itself is denied. */
  readonly key?: string;
}

/**
 * The Redis user lacks commands or keys the transport needs. Found at start,
 * all at once, so that one ACL change fixes every one of them.
 */
export class MissingPermissionsError extends StreamConfigurationError {
  /** The commands denied outright, lower case (`xreadgroup`, `client|list`). */
  readonly commands: readonly string[];
  /** The keys the user may not access, each with the commands denied on it. */
  readonly keys: ReadonlyMap<string, readonly string[]>;

  constructor(
    stream: string,
    group: string,
    readonly user: string,
    readonly missing: readonly MissingPermission[],
  ) {
    const commands = [...new Set(missing.filter((m) => m.key === undefined).map((m) => m.command))];
    const keys = new Map<string, string[]>();
    for (const { command, key } of missing) {
      if (key !== undefined) keys.set(key, [...(keys.get(key) ?? []), command]);
    }
    super(stream, group, describeMissing(user, commands, keys));
    this.commands = commands;
    this.keys = keys;
  }
}

function describeMissing(user: string, commands: readonly string[], keys: ReadonlyMap<string, readonly string[]>): string {
  const parts: string[] = [];
  if (commands.length > 0) parts.push(`may not run ${commands.map(commandLabel).join(', ')}`);
  for (const [key, denied] of keys) {
    parts.push(`may not access key "${key}" (denied to ${[...new Set(denied)].map(commandLabel).join(', ')})`);
  }
  const grant = [...commands.map((c) => `+${c}`), ...[...keys.keys()].map((key) => `~${key}`)].join(' ');
  return (
    `permission denied: the Redis user "${user}" ${parts.join('; ')} (NOPERM). ` +
    `Grant it what is missing (ACL SETUSER ${user} ${grant}); the README's "Redis ACL" section has the complete rule.`
  );
}

function commandLabel(command: string): string {
  return command.toUpperCase().replace('|', ' ');
}
