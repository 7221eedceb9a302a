import { InvalidOptionsError } from '../../../src/errors/invalid-options.error.js';
import { EmitRoutes } from '../../../src/routing/emit-routes.js';

describe('EmitRoutes', () => {
  it('parses a pattern once and hands the same route back afterwards', () => {
    const routes = new EmitRoutes('');
    const first = routes.of('stream:orders');
    expect(first).toEqual({ kind: 'stream', key: 'orders' });
    expect(routes.of('stream:orders')).toBe(first);
    expect(routes.of('list:jobs')).toEqual({ kind: 'list', key: 'jobs' });
  });

  it.each([['orders'], ['stream:'], [42], [undefined]])('refuses %j, every time, naming the option', (pattern) => {
    const routes = new EmitRoutes('');
    for (let i = 0; i < 2; i += 1) {
      expect(() => routes.of(pattern, 'send()')).toThrow(InvalidOptionsError);
    }
    expect(() => routes.of(pattern, 'send()')).toThrow(/send\(\) needs a pattern/);
  });

  it('refuses a key that repeats the keyPrefix, and keeps refusing it', () => {
    const routes = new EmitRoutes('app:');
    expect(() => routes.of('stream:app:orders')).toThrow(/keyPrefix "app:"/);
    expect(() => routes.of('stream:app:orders')).toThrow(/keyPrefix "app:"/);
    expect(routes.of('stream:orders')).toEqual({ kind: 'stream', key: 'orders' });
  });

  it('stays bounded: past 1,000 patterns it forgets them and parses again', () => {
    const routes = new EmitRoutes('');
    const first = routes.of('stream:s0');
    for (let i = 1; i <= 1_000; i += 1) routes.of(`stream:s${i}`);
    const again = routes.of('stream:s0');
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});
