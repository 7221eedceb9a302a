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

/** Redis could not be reached, or refused us, while starting. */
export class RedisConnectionError extends RedisStreamsError {
  constructor(
    readonly target: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `Cannot connect to Redis at ${target}: ${reason}. Check that redis-server is running and that "connection" points at it.`,
      options,
    );
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

/** A feature that is part of the design but not built yet. */
export class NotSupportedError extends RedisStreamsError {}
