import { InvalidOptionsError } from '../../../src/index.js';
import { isBroadcastExtras, resolveBroadcastOptions } from '../../../src/options/resolve-broadcast-options.js';
import { resolveServerOptions } from '../../../src/options/resolve-server-options.js';

const server = resolveServerOptions({ group: 'g', batchSize: 50, blockMs: 1000, concurrency: 20 });
const prefix = '@EventPattern("stream:prices") extras: ';

function refusal(extras: Record<string, unknown>): InvalidOptionsError {
  try {
    resolveBroadcastOptions(extras, server, prefix);
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionsError');
}

describe('broadcast option resolution', () => {
  it("takes the server's read settings and starts at 'latest' by default", () => {
    expect(resolveBroadcastOptions({ broadcast: true }, server, prefix)).toEqual({
      batchSize: 50,
      blockMs: 1000,
      concurrency: 20,
      start: 'latest',
    });
  });

  it('lets the handler set its own read settings and start', () => {
    expect(
      resolveBroadcastOptions({ broadcast: true, concurrency: 1, batchSize: 5, blockMs: 10, startFrom: '0042-7' }, server, prefix),
    ).toEqual({
      batchSize: 5,
      blockMs: 10,
      concurrency: 1,
      start: { after: '42-7' },
    });
    expect(resolveBroadcastOptions({ broadcast: true, startFrom: 'beginning' }, server, prefix).start).toEqual({ after: '0-0' });
    expect(resolveBroadcastOptions({ broadcast: true, startFrom: 'latest' }, server, prefix).start).toBe('latest');
  });

  it.each([
    ['claimIdleMs', 1000],
    ['claimIntervalMs', 10],
    ['maxDeliveries', 3],
    ['retry', { baseDelayMs: 1 }],
    ['deadLetter', {}],
  ])('refuses the group-only option %s, saying why', (key, value) => {
    const error = refusal({ broadcast: true, [key]: value });
    expect(error.option).toBe(`${prefix}${key}`);
    expect(error.message).toContain('does not apply to a broadcast handler');
  });

  it.each([
    [{ startFrom: 'yesterday' }, 'startFrom'],
    [{ startFrom: 17 }, 'startFrom'],
    [{ startFrom: '$' }, 'startFrom'],
    [{ concurrency: 0 }, 'concurrency'],
    [{ batchSize: 1.5 }, 'batchSize'],
    [{ concurency: 2 }, 'concurency'],
  ])('refuses %p naming %s', (extras, option) => {
    expect(refusal({ broadcast: true, ...extras }).option).toBe(`${prefix}${option}`);
  });

  it('tells broadcast extras apart, refusing a broadcast that is not a boolean', () => {
    expect(isBroadcastExtras({ broadcast: true }, prefix)).toBe(true);
    expect(isBroadcastExtras({ broadcast: false }, prefix)).toBe(false);
    expect(isBroadcastExtras({}, prefix)).toBe(false);
    expect(() => isBroadcastExtras({ broadcast: 'yes' }, prefix)).toThrow(InvalidOptionsError);
  });
});
