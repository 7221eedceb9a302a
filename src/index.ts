export { RedisStreamsServer, type RedisStreamsServerClients } from './server/redis-streams.server.js';
export { RedisStreamsClient } from './client/redis-streams.client.js';
export { RedisStreamsContext, type EntryControl } from './context/redis-streams.context.js';
export { RedisListContext } from './context/redis-list.context.js';
export { StreamEvent } from './decorators/stream-event.decorator.js';
export { RedisStreamsExceptionFilter } from './filters/redis-streams-exception.filter.js';
export type { RedisConnection } from './interfaces/connection.interface.js';
export type {
  RedisStreamsServerOptions,
  StreamHandlerOptions,
  DeadLetterOptions,
  GroupStart,
  MissingStreamPolicy,
  EnvelopeOption,
  ArgoEventsEnvelopeOptions,
  BroadcastHandlerOptions,
  BroadcastStart,
} from './interfaces/server-options.interface.js';
export type { ArgoEvent, ArgoEventContext } from './codec/argo-events-envelope.js';
export type { RedisStreamsClientOptions } from './interfaces/client-options.interface.js';
export type { ServerTelemetryOptions, ClientTelemetryOptions } from './interfaces/telemetry-options.interface.js';
export type { RetryOptions, RetryStrategy } from './interfaces/retry-options.interface.js';
export type { RedisStreamsEvents } from './interfaces/events.interface.js';
export { RedisStreamsStatus } from './interfaces/status.enum.js';
export type { RedisStreamsHealthSnapshot, RedisStreamsFailure } from './interfaces/health.interface.js';
export { RedisStreamsError } from './errors/redis-streams.error.js';
export { InvalidOptionsError } from './errors/invalid-options.error.js';
export { RedisConnectionError, type RedisConnectionErrorOptions } from './errors/redis-connection.error.js';
export { StreamConfigurationError } from './errors/stream-configuration.error.js';
export { ListConfigurationError } from './errors/list-configuration.error.js';
export { MissingPermissionsError, type MissingPermission } from './errors/missing-permissions.error.js';
export { ConsumerNameInUseError } from './errors/consumer-name-in-use.error.js';
export { NotSupportedError } from './errors/not-supported.error.js';
export { RedisCommandError } from './errors/redis-command.error.js';
export { EmitTimeoutError } from './errors/emit-timeout.error.js';
export { EmitQueueFullError } from './errors/emit-queue-full.error.js';
export { ReplyTimeoutError } from './errors/reply-timeout.error.js';
export { NoResponderError } from './errors/no-responder.error.js';
export { ClientClosedError } from './errors/client-closed.error.js';
export { UnrecoverableError } from './errors/unrecoverable.error.js';
export { HandlerTimeoutError } from './errors/handler-timeout.error.js';
export { LeaseLostError } from './errors/lease-lost.error.js';
export { REDIS_STREAMS_TRANSPORT, DEAD_LETTER_FIELDS, LIST_ENTRY_FIELD } from './constants.js';
