import { assertPrefixOnce } from './key-prefix.js';
import { parseEmitPattern, type Route } from './stream-route.js';

/** Most patterns remembered; an app writing to more forgets them all and starts over. */
const MOST_REMEMBERED = 1_000;

/**
 * The routes a producer writes to, checked once per pattern (its prefix, and
 * that it does not repeat the connection's keyPrefix) and then remembered:
 * `emit()` and `send()` look a pattern up instead of parsing it each time.
 */
export class EmitRoutes {
  private readonly known = new Map<string, Route>();

  /** @param keyPrefix - the connection's ioredis `keyPrefix` (`''` for none) */
  constructor(private readonly keyPrefix: string) {}

  /**
   * The route `pattern` names.
   *
   * @param operation - names the call in the error
   * @throws InvalidOptionsError (option: `pattern`) for a pattern that names no stream or list, or repeats the keyPrefix
   */
  of(pattern: unknown, operation?: string): Route {
    const isText = typeof pattern === 'string';
    if (isText) {
      const known = this.known.get(pattern);
      if (known !== undefined) return known;
    }
    const route = parseEmitPattern(pattern, operation);
    assertPrefixOnce(this.keyPrefix, route.key, 'pattern');
    if (isText) {
      if (this.known.size >= MOST_REMEMBERED) this.known.clear();
      this.known.set(pattern, route);
    }
    return route;
  }
}
