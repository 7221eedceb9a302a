import { Injectable } from '@nestjs/common';

/** In-memory record of what the sample's handlers did, for GET /orders/status. */
@Injectable()
export class OrderLedger {
  private readonly shippedIds: string[] = [];
  private readonly invoicedIds: string[] = [];
  private failures = 0;
  /** The latest price per SKU: a cache every instance keeps for itself, fed by broadcast. */
  private readonly prices = new Map<string, string>();
  private labels = 0;

  shipped(id: string): void {
    this.shippedIds.push(id);
  }

  invoiced(id: string): void {
    this.invoicedIds.push(id);
  }

  failed(_id: string): void {
    this.failures += 1;
  }

  priced(sku: string, price: string): void {
    this.prices.set(sku, price);
  }

  labeled(): void {
    this.labels += 1;
  }

  summary(): { shipped: number; invoiced: number; failures: number; prices: number; labels: number } {
    return {
      shipped: this.shippedIds.length,
      invoiced: this.invoicedIds.length,
      failures: this.failures,
      prices: this.prices.size,
      labels: this.labels,
    };
  }
}
