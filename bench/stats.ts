import type { RunResult } from './protocol.js';

/** Per contender, its result in each round (undefined where the run failed). */
export type Runs = ReadonlyMap<string, ReadonlyArray<RunResult | undefined>>;

/** Median and range of a set of values. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Median of numbers (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median, min and max of `metric` over a contender's successful runs. */
export function spread(runs: Runs, contender: string, metric: (r: RunResult) => number | undefined): Spread | undefined {
  const values = (runs.get(contender) ?? [])
    .map((r) => (r === undefined ? undefined : metric(r)))
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  const mid = median(values);
  if (mid === undefined) return undefined;
  return { median: mid, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/**
 * Ratio of a contender to a baseline: the median of the per-round ratios
 * (both measured in the same round, under the same machine conditions).
 */
export function ratio(runs: Runs, contender: string, baseline: string, metric: (r: RunResult) => number | undefined): number | undefined {
  const a = runs.get(contender) ?? [];
  const b = runs.get(baseline) ?? [];
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const x = a[i] === undefined ? undefined : metric(a[i]!);
    const y = b[i] === undefined ? undefined : metric(b[i]!);
    if (x !== undefined && y !== undefined && y > 0) ratios.push(x / y);
  }
  return median(ratios);
}

/** 12,345 */
export function int(value: number | undefined): string {
  return value === undefined ? '–' : Math.round(value).toLocaleString('en-US');
}

/** 1.23 (or more digits for small values) */
export function num(value: number | undefined, digits = 2): string {
  if (value === undefined) return '–';
  return value.toFixed(value !== 0 && Math.abs(value) < 0.1 ? 3 : digits);
}

/** 0.94× */
export function times(value: number | undefined): string {
  return value === undefined ? '–' : `${value.toFixed(2)}×`;
}

/** "12,345 (11,000–13,000)" */
export function intSpread(s: Spread | undefined): string {
  if (s === undefined) return '–';
  return s.n > 1 ? `${int(s.median)} (${int(s.min)}–${int(s.max)})` : int(s.median);
}

/** "1.23 (1.10–1.40)" */
export function numSpread(s: Spread | undefined, digits = 2): string {
  if (s === undefined) return '–';
  return s.n > 1 ? `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})` : num(s.median, digits);
}
