import { HandlerTimeoutError } from '../../../src/errors/handler-timeout.error.js';
import { errorTypeOf, metadataGetter, metadataSetter, millisOfRedisId } from '../../../src/telemetry/trace-carrier.js';

describe('trace carrier and error types', () => {
  it('reads only string values of the metadata map, and writes into it', () => {
    const metadata: Record<string, unknown> = { traceparent: '00-abc-def-01', tracestate: 7, other: { a: 1 } };
    expect(metadataGetter.get(metadata, 'traceparent')).toBe('00-abc-def-01');
    expect(metadataGetter.get(metadata, 'tracestate')).toBeUndefined();
    expect(metadataGetter.get(metadata, 'missing')).toBeUndefined();
    expect(metadataGetter.keys(metadata)).toEqual(['traceparent', 'tracestate', 'other']);
    metadataSetter.set(metadata, 'tracestate', 'k=v');
    expect(metadata.tracestate).toBe('k=v');
  });

  it('names a failure by its class, never by its message', () => {
    class PaymentError extends Error {
      override readonly name = 'PaymentError';
    }
    expect(errorTypeOf(new PaymentError('card 4111 declined'))).toBe('PaymentError');
    expect(errorTypeOf(new HandlerTimeoutError('orders', '1-0', 10))).toBe('HandlerTimeoutError');
    expect(errorTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(errorTypeOf({ status: 'error', message: 'Internal server error' })).toBe('_OTHER');
    expect(errorTypeOf('undecodable')).toBe('undecodable');
  });

  it('reads the time of an entry id Redis generated', () => {
    expect(millisOfRedisId('1700000000000-0')).toBe(1_700_000_000_000);
    expect(millisOfRedisId('1700000000000-15')).toBe(1_700_000_000_000);
    expect(millisOfRedisId('1700000000000')).toBe(1_700_000_000_000);
    expect(millisOfRedisId('0-1')).toBeUndefined();
    expect(millisOfRedisId('not-an-id')).toBeUndefined();
  });
});
