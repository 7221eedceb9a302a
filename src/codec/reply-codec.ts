import { CONTENT_TYPE_FIELD, REPLY_ERROR_FIELD, REPLY_FIELD, REPLY_PART_FIELD } from '../constants.js';
import { decodeFlat, encodePayload, type FieldValue } from './stream-codec.js';

/** One reply to a request, as NestJS' `WritePacket` has it. */
export interface ReplyPacket {
  readonly err?: unknown;
  readonly response?: unknown;
  readonly isDisposed?: boolean;
}

/** A reply entry read back: whose request it answers and what it says. */
export type DecodedReply =
  { readonly kind: 'reply'; readonly id: string; readonly packet: ReplyPacket } | { readonly kind: 'undecodable'; readonly reason: string };

/** What replaces an error that JSON cannot encode (a cycle, a BigInt). */
const UNSERIALIZABLE_ERROR = { status: 'error', message: 'the handler failed with an error that could not be serialized' };

/**
 * The fields of a reply entry: the correlation id (under `reply` on a
 * request's last reply, under `reply-part` when more follow), then an error,
 * or a response (our payload fields: a Buffer byte for byte, anything else as
 * JSON). An `Error` instance (NestJS' own
 * exception layer hands over plain objects; other code may not) travels as
 * `{ status: 'error', message }`, as NestJS reports errors.
 *
 * @throws TypeError when the response cannot be JSON-encoded (cycles, BigInt)
 */
export function encodeReply(id: string, packet: ReplyPacket): FieldValue[] {
  const fields: FieldValue[] = [packet.isDisposed === true ? REPLY_FIELD : REPLY_PART_FIELD, id];
  if (packet.err !== undefined && packet.err !== null) {
    fields.push(REPLY_ERROR_FIELD, encodeError(packet.err));
  } else if (packet.response !== undefined) {
    const [typeName, type, dataName, data] = encodePayload(packet.response);
    fields.push(typeName!, type!, dataName!, data!);
  }
  return fields;
}

function encodeError(err: unknown): string {
  const value = err instanceof Error ? { status: 'error', message: err.message } : err;
  try {
    return JSON.stringify(value) ?? JSON.stringify(UNSERIALIZABLE_ERROR);
  } catch {
    return JSON.stringify(UNSERIALIZABLE_ERROR);
  }
}

/**
 * Decodes a reply entry from its flat field list (exact bytes: read as
 * bytes, or checked with `mayHaveLostBytes`).
 */
export function decodeReply(flat: readonly FieldValue[]): DecodedReply {
  let id: FieldValue | undefined;
  let error: FieldValue | undefined;
  let hasPayload = false;
  let isDisposed = false;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    if (name === REPLY_FIELD) {
      id = flat[i + 1];
      isDisposed = true;
    } else if (name === REPLY_PART_FIELD) id = flat[i + 1];
    else if (name === REPLY_ERROR_FIELD) error = flat[i + 1];
    else if (name === CONTENT_TYPE_FIELD) hasPayload = true;
  }
  if (typeof id !== 'string') return { kind: 'undecodable', reason: `reply has no "${REPLY_FIELD}" or "${REPLY_PART_FIELD}"` };
  if (error !== undefined) {
    if (typeof error !== 'string') return { kind: 'undecodable', reason: `"${REPLY_ERROR_FIELD}" is not UTF-8` };
    try {
      return { kind: 'reply', id, packet: { err: JSON.parse(error) as unknown, isDisposed: true } };
    } catch {
      return { kind: 'undecodable', reason: `"${REPLY_ERROR_FIELD}" is not valid JSON` };
    }
  }
  if (!hasPayload) return { kind: 'reply', id, packet: { isDisposed } };
  const decoded = decodeFlat(flat);
  if (decoded.kind === 'undecodable') return decoded;
  return { kind: 'reply', id, packet: { response: decoded.data, isDisposed } };
}
