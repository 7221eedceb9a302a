import type { Redis } from 'ioredis';
import { payloadOf, type BenchPayload } from './payload.js';
import { KEYS, type EntryTemplate } from './protocol.js';

/** XREADGROUP reply: per stream, entries as [id, flat fields]. */
type ReadReply = Array<[string, Array<[string, string[] | null]>]> | null;

/** Handles one decoded message; awaited before the next one. */
export type EntryHandler = (payload: BenchPayload, id: string) => Promise<unknown>;

/** What a hand-written consumer loop needs. */
export interface RawLoopOptions {
  /** Connection the reads block on. */
  readonly reader: Redis;
  /** Connection for XACK; the reader itself for the simple variant. */
  readonly acker: Redis;
  /**
   * `simple`: read, handle, ack, repeat. `pipelined`: the next read is on the
   * wire while a batch is handled. `ack-with-read`: never holds more than one
   * batch, but writes each XACK and the next read together (one round trip per batch).
   */
  readonly variant: 'simple' | 'pipelined' | 'ack-with-read';
  readonly template: EntryTemplate;
  readonly handle: EntryHandler;
  readonly consumer: string;
  /** Entries per XREADGROUP. */
  readonly batchSize: number;
  /** XREADGROUP BLOCK, short so that a stop is noticed quickly. */
  readonly blockMs: number;
}

/**
 * The hand-written ceiling: `XREADGROUP COUNT n`, an awaited handler per
 * entry, one XACK per batch. Runs until {@link RawLoop.stop}.
 */
export class RawLoop {
  private isStopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: RawLoopOptions) {}

  /** Starts the loop. */
  start(): void {
    const runs = { simple: () => this.runSimple(), pipelined: () => this.runPipelined(), 'ack-with-read': () => this.runAckWithRead() };
    this.loop ??= runs[this.options.variant]();
  }

  /** Stops after the current batch and waits for the loop to end. */
  async stop(): Promise<void> {
    this.isStopping = true;
    await this.loop;
  }

  private read(): Promise<ReadReply> {
    const { reader, consumer, batchSize, blockMs } = this.options;
    const reply: Promise<unknown> = reader.xreadgroup(
      'GROUP',
      KEYS.group,
      consumer,
      'COUNT',
      batchSize,
      'BLOCK',
      blockMs,
      'STREAMS',
      KEYS.stream,
      '>',
    );
    return reply as Promise<ReadReply>;
  }

  private async handleBatch(reply: ReadReply): Promise<string[]> {
    const entries = reply?.[0]?.[1];
    if (entries === undefined || entries.length === 0) return [];
    const { handle, template } = this.options;
    const ids: string[] = new Array<string>(entries.length);
    for (let i = 0; i < entries.length; i += 1) {
      const [id, flat] = entries[i]!;
      ids[i] = id;
      if (flat !== null) await handle(payloadOf(flat, template), id);
    }
    return ids;
  }

  private async runSimple(): Promise<void> {
    const { acker } = this.options;
    while (!this.isStopping) {
      const ids = await this.handleBatch(await this.read());
      if (ids.length > 0) await acker.xack(KEYS.stream, KEYS.group, ...ids);
    }
  }

  private async runAckWithRead(): Promise<void> {
    const { reader } = this.options;
    let acking: Promise<unknown> | undefined;
    while (!this.isStopping) {
      // Written right behind the previous batch's XACK on the same connection,
      // so both travel together; the batch was handled, so no more than
      // batchSize entries are ever held.
      const reply = this.read();
      await acking;
      const ids = await this.handleBatch(await reply);
      acking = ids.length > 0 ? reader.xack(KEYS.stream, KEYS.group, ...ids) : undefined;
    }
    await acking;
  }

  private async runPipelined(): Promise<void> {
    const { acker } = this.options;
    let next = this.read();
    let acking: Promise<unknown> = Promise.resolve();
    while (!this.isStopping) {
      const reply = await next;
      // Issued before handling: the next batch travels while this one runs.
      // At most two batches are held, so memory stays bounded by the batch size.
      next = this.read();
      const ids = await this.handleBatch(reply);
      await acking;
      if (ids.length > 0) acking = acker.xack(KEYS.stream, KEYS.group, ...ids);
    }
    await acking;
    // The read issued last may hold entries nobody handles; they stay pending, as in any consumer that stops.
    await next.catch(() => null);
  }
}
