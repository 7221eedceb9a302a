import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { redisUrl, uniqueName } from '../support/redis.js';

/** The marker in README.md that the minimal ACL rule's fenced block follows. */
const RULE_MARKER = '<!-- redis-acl-rule -->';

/** The marker in README.md that the broadcast ACL rule's fenced block follows. */
export const BROADCAST_RULE_MARKER = '<!-- redis-broadcast-acl-rule -->';

/** The marker in README.md that the Redis Cluster ACL rule's fenced block follows. */
export const CLUSTER_RULE_MARKER = '<!-- redis-cluster-acl-rule -->';

/**
 * The README's minimal ACL rule (or the one after `marker`), word for word,
 * with its `<user>`, `<password>` and `<stream>` placeholders.
 */
export function readmeAclRule(marker = RULE_MARKER): string {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const at = readme.indexOf(marker);
  if (at === -1) throw new Error(`README.md has no ${marker} marker`);
  // A block inside a list item is indented.
  const block = /```text\n[ \t]*(.+)\n[ \t]*```/.exec(readme.slice(at));
  if (block === null) throw new Error(`README.md has no fenced block after ${marker}`);
  return block[1]!;
}

/** A Redis ACL user made for one test; {@link AclUsers.deleteAll} removes them. */
export interface AclUser {
  readonly name: string;
  readonly password: string;
  /** The suite's Redis URL, logged in as this user. */
  readonly url: string;
}

/** Creates throwaway ACL users and deletes them after the test. */
export class AclUsers {
  private readonly created: string[] = [];

  constructor(private readonly admin: Redis) {}

  /** `ACL SETUSER <unique> <rules...>` with a random password (`>password` is added unless `rules` hold a `>`). */
  async create(rules: string[]): Promise<AclUser> {
    const name = uniqueName('acl-user');
    const password = `secret-${randomBytes(8).toString('hex')}`;
    const hasPassword = rules.some((rule) => rule.startsWith('>'));
    await this.admin.call('ACL', 'SETUSER', name, 'reset', ...(hasPassword ? [] : ['on', `>${password}`]), ...rules);
    this.created.push(name);
    return { name, password, url: urlFor(name, password) };
  }

  /** Creates a user from the README rule (the one after `marker`), its placeholders filled in. */
  async fromReadme(stream: string, edit: (rule: string) => string = (rule) => rule, marker?: string): Promise<AclUser> {
    const name = uniqueName('acl-user');
    const password = `secret-${randomBytes(8).toString('hex')}`;
    const rule = edit(readmeAclRule(marker)).replaceAll('<user>', name).replaceAll('<password>', password).replaceAll('<stream>', stream);
    const [acl, setuser, ...args] = rule.split(/\s+/);
    this.created.push(name);
    await this.admin.call(acl!, setuser!, ...args);
    return { name, password, url: urlFor(name, password) };
  }

  /** Deletes every user this object created; for afterEach. */
  async deleteAll(): Promise<void> {
    const names = this.created.splice(0);
    if (names.length > 0) await this.admin.call('ACL', 'DELUSER', ...names);
  }
}

function urlFor(name: string, password: string): string {
  return redisUrl().replace('redis://', `redis://${name}:${password}@`);
}
