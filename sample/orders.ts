/** An order as the sample's HTTP endpoint accepts it. */
export interface Order {
  sku: string;
  qty: number;
  placedAt: string;
}

/** Injection token of the producer client. */
export const ORDERS_CLIENT = 'ORDERS_CLIENT';
/** Stream the sample writes orders to. */
export const ORDERS_STREAM = 'orders';
/** Stream of price updates that every instance reads (broadcast). */
export const PRICES_STREAM = 'prices';
/** List queue of shipping-label jobs: one label per job, whichever instance takes it. */
export const LABELS_LIST = 'labels';

/** The stream that price requests go to: request-reply, answered by a `@MessagePattern`. */
export const QUOTES_STREAM = 'quotes';

/** The answer to a price request. */
export interface Quote {
  readonly sku: string;
  readonly qty: number;
  readonly totalCents: number;
  readonly quotedBy: string;
}
