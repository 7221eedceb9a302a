import { RedisStreamsError } from './redis-streams.error.js';

/** A feature that is part of the design but not built yet. */
export class NotSupportedError extends RedisStreamsError {}
