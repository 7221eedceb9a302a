import { Body, Controller, Get, Inject, Logger, Post, Query } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { StreamEvent, type RedisStreamsContext } from '../src/index.js';
import { ORDERS_CLIENT, ORDERS_STREAM, QUOTES_STREAM, type Order, type Quote } from './orders.js';
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
}
