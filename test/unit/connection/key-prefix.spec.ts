import { createRequire } from 'node:module';
import { Command } from 'ioredis';
import { prefixesSubcommandKeys, subcommandKeyFor } from '../../../src/connection/key-prefix.js';

/** The copy of ioredis bullmq depends on (a 5.x today), loaded for its Command class. */
function bullmqIoredis(): { version: string; Command: typeof Command } {
  const require = createRequire(import.meta.url);
  const fromBullmq = createRequire(require.resolve('bullmq'));
  const version = (fromBullmq('ioredis/package.json') as { version: string }).version;
  return { version, Command: (fromBullmq('ioredis') as { Command: typeof Command }).Command };
}

describe('connection: keyPrefix on commands with subcommands', () => {
  it('knows that ioredis 6 prefixes XGROUP and XINFO keys itself', () => {
    expect(prefixesSubcommandKeys(Command)).toBe(true);
    expect(prefixesSubcommandKeys()).toBe(true);
  });

  it("knows that ioredis 5 does not (bullmq's copy)", () => {
    const { version, Command: Command5 } = bullmqIoredis();
    expect(prefixesSubcommandKeys(Command5)).toBe(!version.startsWith('5.'));
  });

  it('prefixes the key itself only where ioredis does not', () => {
    expect(subcommandKeyFor('shop:', true, 'orders')).toBe('orders');
    expect(subcommandKeyFor('shop:', false, 'orders')).toBe('shop:orders');
  });
});
