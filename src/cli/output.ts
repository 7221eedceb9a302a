import { isUtf8 } from 'node:buffer';

/** Where a verb writes. */
export interface Output {
  readonly json: boolean;
  /** One line (or a block) of human text; nothing in JSON mode. */
  line(text: string): void;
  /** The verb's result: a table in human mode, JSON in JSON mode. */
  result(value: unknown, table?: Table): void;
}

/** Rows and the columns to show them under. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number | undefined>>;
}

/** An output writing to `write`, as tables or as JSON. */
export function createOutput(write: (text: string) => void, json: boolean): Output {
  return {
    json,
    line: (text) => {
      if (!json) write(`${text}\n`);
    },
    result: (value, table) => {
      if (json) write(`${JSON.stringify(value, jsonValue, 2)}\n`);
      else if (table !== undefined) write(formatTable(table));
    },
  };
}

/** A table with aligned columns; `-` for a missing value. */
export function formatTable({ columns, rows }: Table): string {
  const cells = [columns, ...rows.map((row) => row.map((cell) => (cell === undefined ? '-' : String(cell))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return `${cells
    .map((row) =>
      row
        .map((cell, i) => (cell ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** Field values for people: text as it is, bytes that are not UTF-8 as hex. */
export function showValue(value: string | Buffer): string {
  if (typeof value === 'string') return value;
  return isUtf8(value) ? value.toString('utf8') : `<${value.length} bytes: ${value.toString('hex')}>`;
}

/** JSON for Buffers: `{ "base64": … }`, so bytes survive a script's round trip. */
function jsonValue(this: unknown, _key: string, value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return { base64: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  return value;
}
