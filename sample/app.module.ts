import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientsModule } from '@nestjs/microservices';
import { RedisStreamsClient, RedisStreamsExceptionFilter } from '../src/index.js';
import { OrderLedger } from './order-ledger.js';
import { ORDERS_CLIENT } from './orders.js';
import { LabelsListController, OrdersHttpController, OrdersStreamController } from './orders.controller.js';

/** The sample app: an HTTP endpoint that emits orders, and stream handlers. */
@Module({})
export class AppModule {
  static forRedis(url: string) {
    return {
      module: AppModule,
      imports: [
        ClientsModule.register([{ name: ORDERS_CLIENT, customClass: RedisStreamsClient, options: { connection: url, maxLen: 100_000 } }]),
      ],
      controllers: [OrdersHttpController, OrdersStreamController, LabelsListController],
      // Keeps handlers' own error messages in the logs and in {invoices}:dlq.
      providers: [OrderLedger, { provide: APP_FILTER, useClass: RedisStreamsExceptionFilter }],
    };
  }
}
