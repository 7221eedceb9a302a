import type { ConsumerDeserializer } from '@nestjs/microservices';
import { describeError } from '../errors/describe-error.js';

/**
 * Runs the user's NestJS deserializer over a decoded packet and gives what the
 * handler receives; a deserializer that throws rejects instead of escaping.
 *
 * @param channel - the stream or list key, as Nest's `{ channel }` option
 */
export function deserializePayload(
  deserializer: ConsumerDeserializer,
  pattern: string,
  channel: string,
  data: unknown,
  metadata: Record<string, unknown> | undefined,
): Promise<unknown> {
  const packet = { pattern, data, ...(metadata === undefined ? {} : { metadata }) };
  return new Promise<{ data?: unknown }>((resolve) => {
    resolve(deserializer.deserialize(packet, { channel }) as { data?: unknown } | Promise<{ data?: unknown }>);
  }).then((incoming) => incoming.data);
}

/**
 * A deserializer's error for logs and dead letters. A SyntaxError (JSON.parse
 * inside the deserializer) quotes the payload in its message, so only its name is kept.
 */
export function describeDeserializerError(error: unknown): string {
  if (error instanceof SyntaxError) return `${error.name}: the payload is not valid JSON`;
  return describeError(error);
}
