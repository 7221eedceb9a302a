import { isUtf8 } from 'node:buffer';

/**
 * How our client writes a list entry, and how a retry hands one back.
 *
 * A list entry is one value, so what marks ours is a prefix: a NUL byte (no
 * text producer writes one; redis-cli cannot without escapes), `nrs`, the
 * format version and a kind letter:
 *
 * - `\0nrs1:j:<JSON>`: a payload as JSON (`0`, `false`, `''`, objects);
 * - `\0nrs1:J:<metadata JSON>\n<JSON>`: the same with metadata (JSON text
 *   never holds a raw newline, so the first one ends the metadata);
 * - `\0nrs1:b:<bytes>`, `\0nrs1:B:<metadata JSON>\n<bytes>`: a Buffer payload;
 * - `\0nrs1:r:<deliveries>:<id>:<entry>`: an entry handed back for a retry
 *   (or recovered from a dead consumer) after `deliveries` deliveries, `id`
 *   unique per hand-back, then the entry as it was first pushed, ours or not.
 *
 * Anything else is a foreign entry and reaches the handler as it is (text as
 * a string, other bytes as a Buffer). A value that starts with the marker but
 * is none of these is undecodable and goes to the dead-letter stream.
 */
export const LIST_MARKER = '\u0000nrs1:';

/** The retry wrapper's prefix; the Lua recovery script writes the same one. */
export const LIST_RETRY_PREFIX = `${LIST_MARKER}r:`;

const MARKER_BYTES = Buffer.from(LIST_MARKER, 'latin1');
/** Marker plus kind letter plus `:`. */
const HEADER_LENGTH = MARKER_BYTES.length + 2;
const COLON = 0x3a;
const NEWLINE = 0x0a;

/** What a list entry turned out to be. */
export type DecodedListEntry =
  | { readonly kind: 'envelope'; readonly data: unknown; readonly metadata: Record<string, unknown> | undefined }
  | { readonly kind: 'foreign'; readonly data: string | Buffer }
  | { readonly kind: 'undecodable'; readonly reason: string };

/** A value as kept in a list: the entry as first pushed, and how often it was delivered before. */
export interface StoredListEntry {
  /** Deliveries before this one (0 for an entry never handed back). */
  readonly deliveries: number;
  /** The entry as it was pushed, byte for byte. */
  readonly entry: Buffer;
}

/**
 * Encodes an outgoing payload as one list value. A Buffer is written as it
 * is, anything else as JSON.
 *
 * @throws TypeError when the payload cannot be JSON-encoded (cycles, BigInt)
 */
export function encodeListEntry(data: unknown, metadata?: Record<string, unknown>): string | Buffer {
  const meta = metadata !== undefined && Object.keys(metadata).length > 0 ? JSON.stringify(metadata) : undefined;
  if (Buffer.isBuffer(data)) {
    if (meta === undefined) return Buffer.concat([Buffer.from(`${LIST_MARKER}b:`, 'latin1'), data]);
    return Buffer.concat([Buffer.from(`${LIST_MARKER}B:${meta}\n`, 'utf8'), data]);
  }
  const json = JSON.stringify(data);
  if (json === undefined) throw new TypeError(`payload of type ${typeof data} cannot be JSON-encoded`);
  return meta === undefined ? `${LIST_MARKER}j:${json}` : `${LIST_MARKER}J:${meta}\n${json}`;
}

/** Whether the bytes start with {@link LIST_MARKER}. */
function isMarked(bytes: Buffer): boolean {
  return bytes.length >= MARKER_BYTES.length && bytes[0] === 0 && bytes.subarray(0, MARKER_BYTES.length).equals(MARKER_BYTES);
}

/**
 * Decodes a list entry as it was pushed (see {@link readStoredEntry} for
 * values handed back): ours to the payload, anyone else's to itself.
 */
export function decodeListEntry(bytes: Buffer): DecodedListEntry {
  if (!isMarked(bytes)) return { kind: 'foreign', data: isUtf8(bytes) ? bytes.toString('utf8') : bytes };
  const kind = String.fromCharCode(bytes[MARKER_BYTES.length] ?? 0);
  if (bytes[MARKER_BYTES.length + 1] !== COLON || !'jJbB'.includes(kind)) {
    return { kind: 'undecodable', reason: `list entry starts with the transport's marker but has no known format (${bytes.length} bytes)` };
  }
  const body = bytes.subarray(HEADER_LENGTH);
  let metadata: Record<string, unknown> | undefined;
  let payload = body;
  if (kind === 'J' || kind === 'B') {
    const end = body.indexOf(NEWLINE);
    if (end === -1) return { kind: 'undecodable', reason: `list entry has no end of its metadata (${bytes.length} bytes)` };
    const parsed = parseJson('metadata', body.subarray(0, end));
    if (parsed.kind === 'undecodable') return parsed;
    if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      return { kind: 'undecodable', reason: 'list entry metadata is not a JSON object' };
    }
    metadata = parsed.value as Record<string, unknown>;
    payload = body.subarray(end + 1);
  }
  if (kind === 'b' || kind === 'B') return { kind: 'envelope', data: Buffer.from(payload), metadata };
  const parsed = parseJson('data', payload);
  if (parsed.kind === 'undecodable') return parsed;
  return { kind: 'envelope', data: parsed.value, metadata };
}

/**
 * Reads a value taken from a list: a retry wrapper gives its delivery count
 * and the entry inside; any other value is an entry delivered 0 times before.
 * A malformed wrapper is kept whole (it then decodes as undecodable).
 */
export function readStoredEntry(stored: Buffer): StoredListEntry {
  const prefixLength = HEADER_LENGTH;
  if (!isMarked(stored) || stored[MARKER_BYTES.length] !== 0x72 || stored[MARKER_BYTES.length + 1] !== COLON) {
    return { deliveries: 0, entry: stored };
  }
  const countEnd = stored.indexOf(COLON, prefixLength);
  const idEnd = countEnd === -1 ? -1 : stored.indexOf(COLON, countEnd + 1);
  const deliveries = countEnd === -1 ? NaN : Number(stored.toString('latin1', prefixLength, countEnd));
  if (idEnd === -1 || !Number.isInteger(deliveries) || deliveries < 0) return { deliveries: 0, entry: stored };
  return { deliveries, entry: stored.subarray(idEnd + 1) };
}

/**
 * The value an entry is handed back as after `deliveries` deliveries.
 *
 * @param id - unique per hand-back (it makes the retry's sorted-set member unique); no `:`
 */
export function wrapForRetry(deliveries: number, id: string, entry: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${LIST_RETRY_PREFIX}${deliveries}:${id}:`, 'latin1'), entry]);
}

/** A list value as the handler sees a foreign entry: text when it is UTF-8, else the bytes. */
export function listValueOf(bytes: Buffer): string | Buffer {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes;
}

type Parsed = { readonly kind: 'parsed'; readonly value: unknown } | { readonly kind: 'undecodable'; readonly reason: string };

/** Parses JSON bytes; a failure names the part and its length, never its content. */
function parseJson(part: string, bytes: Buffer): Parsed {
  if (!isUtf8(bytes)) return { kind: 'undecodable', reason: `list entry ${part} is not valid UTF-8 (${bytes.length} bytes), so not JSON` };
  try {
    return { kind: 'parsed', value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { kind: 'undecodable', reason: `list entry ${part} is not valid JSON (${bytes.length} bytes)` };
  }
}
