import { Injectable } from '@nestjs/common';

/** In-memory record of what the sample's handlers did, for GET /orders/status. */
@Injectable()
export class OrderLedger {
  private readonly shippedIds: string[] = [];
  private readonly invoicedIds: string[] = [];
  private failures = 0;
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

  labeled(): void {
    this.labels += 1;
  }

  summary(): { shipped: number; invoiced: number; failures: number; labels: number } {
    return { shipped: this.shippedIds.length, invoiced: this.invoicedIds.length, failures: this.failures, labels: this.labels };
  }
}
