import { Body, Controller, Get, Inject, Logger, Post, Query } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { StreamEvent, type BroadcastHandlerOptions, type RedisListContext, type RedisStreamsContext } from '../src/index.js';
import { LABELS_LIST, ORDERS_CLIENT, ORDERS_STREAM, PRICES_STREAM, QUOTES_STREAM, type Order, type Quote } from './orders.js';
import { OrderLedger } from './order-ledger.js';

/** HTTP side: POST /orders emits an order event onto the stream. */
@Controller('orders')
export class OrdersHttpController {
  constructor(
    @Inject(ORDERS_CLIENT) private readonly orders: ClientProxy,
    private readonly ledger: OrderLedger,
  ) {}

  @Post()
  async create(@Body() body: Partial<Order>): Promise<{ entryId: string }> {
    const order: Order = { sku: body.sku ?? 'A1', qty: body.qty ?? 1, placedAt: new Date().toISOString() };
    const entryId = await lastValueFrom(this.orders.emit<string>(`stream:${ORDERS_STREAM}`, order));
    // A work item for whichever instance is free: a list queue (RPUSH).
    await lastValueFrom(this.orders.emit(`list:${LABELS_LIST}`, { orderEntryId: entryId, sku: order.sku }));
    return { entryId };
  }

  /** Request-reply: asks the quotes handler (any server of the group) and waits for its answer. */
  @Get('quote')
  quote(@Query('sku') sku = 'A1', @Query('qty') qty = '1'): Promise<Quote> {
    return lastValueFrom(this.orders.send<Quote>(`stream:${QUOTES_STREAM}`, { sku, qty: Number(qty) }));
  }

  @Get('status')
  status(): ReturnType<OrderLedger['summary']> {
    return this.ledger.summary();
  }
}

/** Stream side: two handlers in two consumer groups would each get every order; here one group runs both. */
@Controller()
export class OrdersStreamController {
  private readonly logger = new Logger('Orders');

  constructor(private readonly ledger: OrderLedger) {}

  /** Always succeeds: the entry is acknowledged when this resolves. */
  @EventPattern<string>(`stream:${ORDERS_STREAM}`)
  async ship(@Payload() order: Order, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.ledger.shipped(ctx.getMessageId());
    this.logger.log(`shipped ${order.qty} x ${order.sku} (entry ${ctx.getMessageId()})`);
  }

  /** Answers price requests; the caller's Observable errors with the RpcException's payload. */
  @MessagePattern(`stream:${QUOTES_STREAM}`)
  quote(@Payload() request: { sku: string; qty: number }, @Ctx() ctx: RedisStreamsContext): Quote {
    if (!Number.isInteger(request.qty) || request.qty < 1)
      throw new RpcException({ status: 400, message: 'qty must be a whole number >= 1' });
    return { sku: request.sku, qty: request.qty, totalCents: request.qty * 1_250, quotedBy: ctx.getConsumer() };
  }

  /**
   * Fails now and then: a failed entry stays pending and is retried with a
   * growing delay; after maxDeliveries it lands in `{invoices}:dlq`.
   */
  @StreamEvent('invoices', { maxDeliveries: 3, retry: { baseDelayMs: 500 } })
  invoice(@Payload() invoice: { orderEntryId: string }, @Ctx() ctx: RedisStreamsContext): void {
    if (Number(ctx.getMessageId().split('-')[0]) % 3 === 0) {
      this.ledger.failed(ctx.getMessageId());
      throw new Error(`payment provider declined (try ${ctx.getDeliveryCount()})`);
    }
    this.ledger.invoiced(invoice.orderEntryId);
  }

  /**
   * Broadcast: every instance of the app gets every price update (plain
   * XREAD, no consumer group), at most once, to keep a cache of its own.
   * Nothing is acknowledged or retried; a failure is only logged.
   */
  @EventPattern<string>(`stream:${PRICES_STREAM}`, { broadcast: true } satisfies BroadcastHandlerOptions)
  price(@Payload() update: { sku: string; price: string }): void {
    this.ledger.priced(update.sku, update.price);
  }
}

/**
 * List side: each label job goes to one consumer of the app (a work queue).
 * Jobs pushed by anyone (`redis-cli RPUSH labels SKU-1`) arrive as the string
 * pushed; the client's arrive as the object emitted. A failure hands the job
 * back for a retry; after maxDeliveries it lands in `{labels}:dlq`.
 */
@Controller()
export class LabelsListController {
  private readonly logger = new Logger('Labels');

  constructor(private readonly ledger: OrderLedger) {}

  @EventPattern<string>(`list:${LABELS_LIST}`, { concurrency: 10, maxDeliveries: 3 })
  label(@Payload() job: string | { orderEntryId: string; sku: string }, @Ctx() ctx: RedisListContext): void {
    const what = typeof job === 'string' ? job : `${job.sku} (order ${job.orderEntryId})`;
    this.ledger.labeled();
    this.logger.log(`printed a label for ${what} (delivery ${ctx.getDeliveryCount()})`);
  }
}
