/**
 * `node build/bench/profile-top.js <file.cpuprofile> [count]`: where a V8 CPU
 * profile (from `npm run bench -- --profile`) spent its time, by package and
 * by function (self time). Idle time is left out of the percentages.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One row of a self-time table. */
export interface SelfTime {
  readonly name: string;
  readonly us: number;
}

/** Which package (or part of this repository) a script URL belongs to. */
export function packageOf(url: string): string {
  if (url === '') return '(native, GC)';
  if (url.startsWith('node:')) return 'node';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? '?');
  }
  const build = url.match(/\/build\/(?:\.bench-snapshot-[^/]+\/)?(src|bench|sample|test)\//);
  return build === null ? url : `this repo: ${build[1]}/`;
}

/** Self time per key (largest first, idle left out), in microseconds. */
export function selfTimes(profile: CpuProfile, key: (node: ProfileNode) => string): SelfTime[] {
  const keyOf = new Map<number, string>(profile.nodes.map((node) => [node.id, key(node)]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = keyOf.get(id) ?? '?';
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  totals.delete('(idle)');
  return [...totals].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') return '(idle)';
  const where = url === '' ? '' : ` ${basename(url)}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}

function packageKey(node: ProfileNode): string {
  return node.callFrame.functionName === '(idle)' ? '(idle)' : packageOf(node.callFrame.url);
}

function print(title: string, rows: readonly SelfTime[], count: number): void {
  const total = rows.reduce((sum, r) => sum + r.us, 0);
  process.stdout.write(`\n| ${title} | self ms | self % (busy) |\n| --- | ---: | ---: |\n`);
  for (const row of rows.slice(0, count)) {
    process.stdout.write(
      `| ${row.name.replaceAll('|', '\\|')} | ${(row.us / 1000).toFixed(0)} | ${((100 * row.us) / total).toFixed(1)} |\n`,
    );
  }
}

function main(): void {
  const [file, count = '25'] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-top.js <file.cpuprofile> [count]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byFunction = selfTimes(profile, functionKey);
  const busy = byFunction.reduce((sum, r) => sum + r.us, 0);
  const total = profile.timeDeltas.reduce((sum, d) => sum + d, 0);
  process.stdout.write(
    `${basename(file)}: ${(total / 1000).toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy, ` +
      `${((total - busy) / 1000).toFixed(0)} ms idle (waiting for Redis or for the CPU)\n`,
  );
  print('package', selfTimes(profile, packageKey), 15);
  print('function', byFunction, Number(count));
}

main();
