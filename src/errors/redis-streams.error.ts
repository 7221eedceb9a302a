/** Base class of every error this package throws. */
export class RedisStreamsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
