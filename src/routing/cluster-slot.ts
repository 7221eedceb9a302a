/** How many hash slots a Redis Cluster has. */
export const CLUSTER_SLOTS = 16_384;

/** CRC16-CCITT (XMODEM) lookup table, the checksum Redis Cluster hashes keys with. */
const CRC16_TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/**
 * The part of a key Redis Cluster hashes: the text between the first `{` and
 * the first `}` after it when that is not empty (the hash tag), else the whole key.
 *
 * @example
 * ```ts
 * hashedPart('{shop}:orders'); // 'shop'
 * hashedPart('orders');        // 'orders'
 * hashedPart('{}orders');      // '{}orders' (an empty tag does not count)
 * ```
 */
export function hashedPart(key: string | Buffer): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const open = bytes.indexOf(0x7b);
  if (open === -1) return bytes;
  const close = bytes.indexOf(0x7d, open + 1);
  if (close === -1 || close === open + 1) return bytes;
  return bytes.subarray(open + 1, close);
}

/**
 * The Redis Cluster hash slot of a key (`CLUSTER KEYSLOT`): CRC16 of its
 * hashed part ({@link hashedPart}) modulo 16384. Keys of one slot can be used
 * together in one script or multi-key command.
 *
 * @example
 * ```ts
 * keySlot('orders'); // 105
 * keySlot('{orders}:dlq') === keySlot('orders'); // true
 * ```
 */
export function keySlot(key: string | Buffer): number {
  return crc16(hashedPart(key)) % CLUSTER_SLOTS;
}
