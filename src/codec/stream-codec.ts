import { isUtf8 } from 'node:buffer';
import { CONTENT_TYPE_BYTES, CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, METADATA_FIELD, REQUEST_FIELD } from '../constants.js';

/** A field name or value: text when it is valid UTF-8, the bytes otherwise. */
export type FieldValue = string | Buffer;

/** Field map of a stream entry: text values as strings, values that are not UTF-8 as Buffers. */
export type StreamFields = Record<string, FieldValue>;

/** Where the answer to a request entry goes, and until when its caller waits. */
export interface RequestAddress {
  /** The correlation id (NestJS' packet id) every reply carries. */
  readonly id: string;
  /** The reply stream of the client that asked. */
  readonly replyTo: string;
  /** The caller's deadline (epoch ms); past it, nobody waits for an answer. */
  readonly deadline: number;
}

/** What an entry turned out to be. */
export type DecodedEntry =
  | {
      readonly kind: 'envelope';
      readonly data: unknown;
      readonly metadata: Record<string, unknown> | undefined;
      /** Set on a request (`send()`), unset on an event (`emit()`). */
      readonly request?: RequestAddress | undefined;
    }
  | { readonly kind: 'fields'; readonly data: StreamFields }
  | { readonly kind: 'undecodable'; readonly reason: string };

/** What UTF-8 decoding puts in place of bytes that are not UTF-8. */
const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Turns an outgoing payload into the flat field list `XADD` takes. A `Buffer`
 * is written as it is, under a content type of its own; anything else as JSON.
 *
 * @param data - what the application emitted; a Buffer, or a value `JSON.stringify` can encode
 * @param metadata - packet metadata set by a dispatch hook, if any
 * @throws TypeError when the payload cannot be JSON-encoded (cycles, BigInt)
 */
export function encodeEntry(data: unknown, metadata?: Record<string, unknown>): FieldValue[] {
  const fields = encodePayload(data);
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    fields.push(METADATA_FIELD, JSON.stringify(metadata));
  }
  return fields;
}

/**
 * The fields of a request entry: those of {@link encodeEntry} and where to answer.
 *
 * @throws TypeError when the payload cannot be JSON-encoded (cycles, BigInt)
 */
export function encodeRequest(data: unknown, metadata: Record<string, unknown> | undefined, address: RequestAddress): FieldValue[] {
  const fields = encodeEntry(data, metadata);
  fields.push(REQUEST_FIELD, `${address.id} ${address.deadline} ${address.replyTo}`);
  return fields;
}

/**
 * The content type and data fields of a payload: a `Buffer` as it is, under
 * a content type of its own; anything else as JSON.
 *
 * @throws TypeError when the payload cannot be JSON-encoded (cycles, BigInt)
 */
export function encodePayload(data: unknown): FieldValue[] {
  let fields: FieldValue[];
  if (Buffer.isBuffer(data)) {
    fields = [CONTENT_TYPE_FIELD, CONTENT_TYPE_BYTES, DATA_FIELD, data];
  } else {
    const json = JSON.stringify(data);
    if (json === undefined) {
      throw new TypeError(`payload of type ${typeof data} cannot be JSON-encoded`);
    }
    fields = [CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, json];
  }
  return fields;
}

/**
 * Whether a flat list read as text may have lost bytes: Redis replies decoded
 * as UTF-8 carry U+FFFD where the bytes were not UTF-8. Such an entry is read
 * again as bytes ({@link fromBytes}) before anything uses or copies it. A
 * U+FFFD that was really there costs that extra read and nothing else.
 */
export function mayHaveLostBytes(flat: readonly FieldValue[]): boolean {
  for (const item of flat) {
    // V8 answers at once for one-byte strings, which cannot hold U+FFFD.
    if (typeof item === 'string' && item.includes(REPLACEMENT_CHARACTER)) return true;
  }
  return false;
}

/** The flat list of an entry read as bytes: UTF-8 items as strings, the others as the Buffers they are. */
export function fromBytes(flat: readonly Buffer[]): FieldValue[] {
  return flat.map((item) => (isUtf8(item) ? item.toString('utf8') : item));
}

/** The bytes of a field name or value. */
export function toBytes(item: FieldValue): Buffer {
  return typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
}

/**
 * Builds the field map from the flat `[field, value, ...]` list Redis returns.
 * A field name that is not UTF-8 becomes a key with U+FFFD in it; its exact
 * bytes stay in the flat list.
 */
export function toFieldMap(flat: readonly FieldValue[]): StreamFields {
  const map: StreamFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    map[String(flat[i])] = flat[i + 1] as FieldValue;
  }
  return map;
}

/**
 * Decodes an entry from the flat `[field, value, ...]` list Redis returns: ours
 * (marked by the content type) are decoded, without building a field map (the
 * hot path); anyone else's are handed over as the field map, even when a field
 * is called `data`. The list must be exact: read as bytes, or checked with
 * {@link mayHaveLostBytes}.
 */
export function decodeFlat(flat: readonly FieldValue[]): DecodedEntry {
  let contentType: FieldValue | undefined;
  let data: FieldValue | undefined;
  let metadata: FieldValue | undefined;
  let request: FieldValue | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    if (name === CONTENT_TYPE_FIELD) contentType = flat[i + 1];
    else if (name === DATA_FIELD) data = flat[i + 1];
    else if (name === METADATA_FIELD) metadata = flat[i + 1];
    else if (name === REQUEST_FIELD) request = flat[i + 1];
  }
  if (contentType !== CONTENT_TYPE_JSON && contentType !== CONTENT_TYPE_BYTES) {
    return { kind: 'fields', data: toFieldMap(flat) };
  }
  const decoded = decodeEnvelope(contentType, data, metadata);
  if (decoded.kind !== 'envelope' || request === undefined) return decoded;
  const address = requestAddress(request);
  if (address === undefined) {
    return {
      kind: 'undecodable',
      reason: `"${REQUEST_FIELD}" must be "<correlation id> <deadline ms> <reply stream>"`,
    };
  }
  return { kind: 'envelope', data: decoded.data, metadata: decoded.metadata, request: address };
}

/** The address in a request field, `<correlation id> <deadline ms> <reply stream>`; the reply stream may hold spaces. */
function requestAddress(field: FieldValue): RequestAddress | undefined {
  if (typeof field !== 'string') return undefined;
  const idEnd = field.indexOf(' ');
  const deadlineEnd = idEnd < 1 ? -1 : field.indexOf(' ', idEnd + 1);
  if (deadlineEnd < 0 || deadlineEnd === field.length - 1) return undefined;
  const deadline = Number(field.slice(idEnd + 1, deadlineEnd));
  if (deadlineEnd === idEnd + 1 || !Number.isFinite(deadline)) return undefined;
  return { id: field.slice(0, idEnd), deadline, replyTo: field.slice(deadlineEnd + 1) };
}

function decodeEnvelope(
  contentType: typeof CONTENT_TYPE_JSON | typeof CONTENT_TYPE_BYTES,
  data: FieldValue | undefined,
  metadataText: FieldValue | undefined,
): DecodedEntry {
  if (data === undefined) {
    return { kind: 'undecodable', reason: `entry is marked ${contentType} but has no "${DATA_FIELD}" field` };
  }
  let payload: unknown;
  if (contentType === CONTENT_TYPE_BYTES) {
    payload = toBytes(data);
  } else {
    const parsed = parseJson(DATA_FIELD, data);
    if (parsed.kind === 'undecodable') return parsed;
    payload = parsed.value;
  }
  if (metadataText === undefined) {
    return { kind: 'envelope', data: payload, metadata: undefined };
  }
  const metadata = parseJson(METADATA_FIELD, metadataText);
  if (metadata.kind === 'undecodable') return metadata;
  const { value } = metadata;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'undecodable', reason: `"${METADATA_FIELD}" is not a JSON object` };
  }
  return { kind: 'envelope', data: payload, metadata: value as Record<string, unknown> };
}

type Parsed = { readonly kind: 'parsed'; readonly value: unknown } | { readonly kind: 'undecodable'; readonly reason: string };

/**
 * Parses one field as JSON. A failure says which field and how long it is,
 * never its content: V8's message quotes the text, and the reason ends up in
 * logs and in the dead-letter stream.
 */
function parseJson(field: string, text: FieldValue): Parsed {
  if (typeof text !== 'string') {
    return { kind: 'undecodable', reason: `"${field}" is not valid UTF-8 (${text.length} bytes), so not JSON` };
  }
  try {
    return { kind: 'parsed', value: JSON.parse(text) };
  } catch {
    return { kind: 'undecodable', reason: `"${field}" is not valid JSON (${Buffer.byteLength(text)} bytes)` };
  }
}
