import type { ArgoEventOrigin } from '../codec/argo-events-envelope.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { ArgoEventsEnvelopeOptions } from '../interfaces/server-options.interface.js';
import { describeValue, isPlainObject, onlyKnownKeys } from './validate-shape.js';
import { nonEmptyString } from './validate.js';

/** The envelope a handler receives entries in; `source` and `subject` unset mean their defaults (group, stream). */
export interface ResolvedEnvelope {
  readonly format: 'argo-events';
  readonly source: string | undefined;
  readonly subject: string | undefined;
}

const ENVELOPE_KEYS = ['format', 'source', 'subject'] as const satisfies ReadonlyArray<keyof ArgoEventsEnvelopeOptions>;
const EXAMPLE = "'argo-events', or { format: 'argo-events', source: 'orders-service', subject: 'order-created' }";

/**
 * Checks the `envelope` option; unset falls back to `base` (the server's, for a handler's extras).
 *
 * @throws InvalidOptionsError naming the option and what it takes
 */
export function resolveEnvelope(value: unknown, base: ResolvedEnvelope | undefined, option: string): ResolvedEnvelope | undefined {
  if (value === undefined) return base;
  if (value === 'argo-events') return { format: 'argo-events', source: undefined, subject: undefined };
  if (!isPlainObject(value)) {
    throw new InvalidOptionsError(option, `must be ${EXAMPLE}; got ${describeValue(value)}`);
  }
  onlyKnownKeys(`${option}.`, value, ENVELOPE_KEYS);
  if (value['format'] !== 'argo-events') {
    throw new InvalidOptionsError(
      `${option}.format`,
      `must be 'argo-events' (the only envelope so far); got ${describeValue(value['format'])}`,
    );
  }
  return {
    format: 'argo-events',
    source: nonEmptyString(`${option}.source`, value['source']),
    subject: nonEmptyString(`${option}.subject`, value['subject']),
  };
}

/**
 * Where the argo-events events of a stream say they come from, when its
 * handler asks for them: `source` defaults to the group (the service), `subject` to the stream.
 */
export function argoEventOriginOf(envelope: ResolvedEnvelope | undefined, stream: string, group: string): ArgoEventOrigin | undefined {
  if (envelope === undefined) return undefined;
  return { stream, source: envelope.source ?? group, subject: envelope.subject ?? stream };
}
