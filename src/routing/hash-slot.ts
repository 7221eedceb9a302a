/** Redis Cluster's number of hash slots. */
export const CLUSTER_SLOT_COUNT = 16_384;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const encoder = new TextEncoder();

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function bytesOf(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? encoder.encode(key) : key;
}

/**
 * Where a key's hash tag lies, by Redis' rule: the first `{`, then the first
 * `}` after it, with at least one byte between them. `{` and `}` never occur
 * inside a multi-byte UTF-8 sequence, so bytes and text agree.
 *
 * @returns the tag's start and end (exclusive) in the key's bytes, or undefined without a tag
 */
function hashTagSpan(bytes: Uint8Array): readonly [number, number] | undefined {
  const open = bytes.indexOf(OPEN_BRACE);
  if (open === -1) return undefined;
  const close = bytes.indexOf(CLOSE_BRACE, open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return [open + 1, close];
}

/**
 * The hash tag of a key (the text between its first `{` and the first `}`
 * after it, when not empty), or undefined when the whole key is hashed.
 *
 * @example
 * ```ts
 * hashTagOf('{user1000}.following'); // 'user1000'
 * hashTagOf('foo{}{bar}'); // undefined: the first tag is empty, so the whole key is hashed
 * hashTagOf('foo{{bar}}zap'); // '{bar'
 * ```
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/** Whether Redis Cluster hashes only a part of this key (its hash tag) instead of all of it. */
export function hasHashTag(key: string): boolean {
  return hashTagOf(key) !== undefined;
}

/** CRC16 (XMODEM) of some bytes. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/**
 * The Redis Cluster hash slot of a key (what `CLUSTER KEYSLOT` answers):
 * CRC16 of its hash tag, or of the whole key without one, modulo 16384. Text
 * is hashed as its UTF-8 bytes.
 *
 * @example
 * ```ts
 * keySlot('foo'); // 12182
 * keySlot('{user1000}.following') === keySlot('{user1000}.followers'); // true
 * ```
 */
export function keySlot(key: string | Uint8Array): number {
  const bytes = bytesOf(key);
  const span = hashTagSpan(bytes);
  const hashed = span === undefined ? bytes : bytes.subarray(span[0], span[1]);
  return crc16(hashed) % CLUSTER_SLOT_COUNT;
}

/** Whether every key given lies in one hash slot (so one script or multi-key command may touch them all on a cluster). */
export function shareSlot(...keys: ReadonlyArray<string | Uint8Array>): boolean {
  const [first, ...rest] = keys;
  if (first === undefined) return true;
  const slot = keySlot(first);
  return rest.every((key) => keySlot(key) === slot);
}
