/**
 * One harmless command, sent only to learn whether the ACL lets it through
 * (the start-up permission check of every delivery mode).
 */
export interface Probe {
  /** The command as ACL rules name it. */
  readonly acl: string;
  /** The one key it names, if any. */
  readonly key?: string;
  readonly args: ReadonlyArray<string | number>;
  /** The bound stream or list a denial is reported for; the first bound stream when unset. */
  readonly owner?: string;
}
