import type { EntryTemplate } from './protocol.js';

/** The message every contender handles: about 200 bytes of JSON. */
export interface BenchPayload {
  /** Sequence number. */
  readonly n: number;
  /** Send time (epoch ms, sub-ms precision) for latency runs; 0 otherwise. */
  readonly t: number;
  readonly order: string;
  readonly customer: string;
  readonly items: ReadonlyArray<{ readonly sku: string; readonly qty: number; readonly price: number }>;
  readonly currency: string;
  readonly note: string;
}

/** Wall-clock time in milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Builds the payload for message `n`, sent at `t`. */
export function makePayload(n: number, t = 0): BenchPayload {
  return {
    n,
    t,
    order: `ord-${String(n).padStart(8, '0')}`,
    customer: 'cus-4f2a9c71',
    items: [
      { sku: 'SKU-10042', qty: 2, price: 19.99 },
      { sku: 'SKU-20377', qty: 1, price: 5.5 },
    ],
    currency: 'EUR',
    note: 'ring twice',
  };
}

/** Size in bytes of a typical payload's JSON, for the report. */
export function payloadBytes(): number {
  return Buffer.byteLength(JSON.stringify(makePayload(123_456, nowMs())));
}

/** The flat XADD fields of an entry carrying `json` as its payload. */
export function entryFields(template: EntryTemplate, json: string): string[] {
  const fields = template.fields.slice();
  fields[template.dataIndex] = json;
  return fields;
}

/** Reads a handler's view of the payload back out of an entry's flat fields. */
export function payloadOf(flat: readonly string[], template: EntryTemplate): BenchPayload {
  return JSON.parse(flat[template.dataIndex] ?? 'null') as BenchPayload;
}
