/** ioredis events forwarded by `on()`, from every connection the transport opened. */
export type RedisStreamsEvents = {
  connect: () => void;
  ready: () => void;
  error: (error: Error) => void;
  close: () => void;
  reconnecting: (delayMs: number) => void;
  end: () => void;
};
