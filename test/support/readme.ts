import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The first fenced block after `<!-- marker -->` in README.md, without its
 * fences, so that tests run what the README says word for word.
 *
 * @throws Error when the marker or the block is missing
 */
export function readmeBlock(marker: string): string {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const comment = `<!-- ${marker} -->`;
  const at = readme.indexOf(comment);
  if (at === -1) throw new Error(`README.md has no ${comment} marker`);
  const block = /```\w*\n([\s\S]*?)\n```/.exec(readme.slice(at));
  if (block === null) throw new Error(`README.md has no fenced block after ${comment}`);
  return block[1]!;
}
