/** Base class of every error this package throws. */
export class RedisStreamsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option is missing or has a value the transport cannot work with. */
export class InvalidOptionsError extends RedisStreamsError {
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`Invalid option "${option}": ${reason}`);
  }
}

/** What {@link RedisConnectionError} says to do when it knows no better. */
const DEFAULT_CONNECTION_FIX = 'Check that redis-server is running and that "connection" points at it.';

/** Options of {@link RedisConnectionError}. */
export interface RedisConnectionErrorOptions extends ErrorOptions {
  /**
   * What the user should do, when the cause is known (wrong password, client limit).
   *
   * @defaultValue check that redis-server is running and that "connection" points at it
   */
  readonly fix?: string;
}

/** Redis could not be reached, or refused us, while starting. */
export class RedisConnectionError extends RedisStreamsError {
  constructor(
    readonly target: string,
    reason: string,
    options: RedisConnectionErrorOptions = {},
  ) {
    const { fix = DEFAULT_CONNECTION_FIX, ...errorOptions } = options;
    super(`Cannot connect to Redis at ${target}: ${reason}. ${fix}`, errorOptions);
  }
}

/** A stream key cannot be used as configured (wrong type, missing permission). */
export class StreamConfigurationError extends RedisStreamsError {
  constructor(
    readonly stream: string,
    readonly group: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Stream "${stream}" (group "${group}"): ${reason}`, options);
  }
}

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

/**
 * Another live server already uses this server's consumer name in its group.
 * Both would re-read the consumer's pending entries and run them at once.
 */
export class ConsumerNameInUseError extends RedisStreamsError {
  constructor(
    readonly group: string,
    readonly consumer: string,
    /** What Redis' CLIENT LIST says about the other server's connection: id, address, idle time. */
    readonly holder: string,
  ) {
    super(
      `Consumer "${consumer}" of group "${group}" is already in use by a live connection (${holder}). ` +
        'Two servers with one consumer name would both re-read its pending entries and run them at the same time. ' +
        'Give each live instance its own "consumer" name (or leave "consumer" unset for a unique default); ' +
        'a restart under the old name works once the old process is gone. If that process is dead but its host ' +
        'never closed the connection, CLIENT KILL ID <id> ends it.',
    );
  }
}

/** A feature that is part of the design but not built yet. */
export class NotSupportedError extends RedisStreamsError {}
