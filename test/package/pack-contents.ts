/** What a published file may be: the build's JavaScript and types, and the docs. */
const ALLOWED: readonly RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^CHANGELOG\.md$/,
  /^dist\/.+\.(js|d\.ts|d\.cts)$/,
  /^dist\/.+\.(js|d\.ts)\.map$/,
];

/** Paths that are tests, fixtures or sources whatever their extension. */
const FORBIDDEN: readonly RegExp[] = [
  /(^|\/)(test|tests|__tests__|fixtures|sample|bench)\//,
  /\.(spec|test)\.[cm]?[jt]s$/,
  /(^|\/)tsconfig[^/]*\.json$/,
];

/** The parts of package.json that name files users load. */
export interface PackageEntryPoints {
  main?: string;
  types?: string;
  exports?: unknown;
}

/** A source map's fields that say where its sources are. */
interface SourceMap {
  sources?: unknown;
  sourcesContent?: unknown;
  sourceRoot?: unknown;
}

function normalize(path: string): string {
  return path.replace(/^\.\//, '');
}

/** Every file path named in an `exports` map, at any depth of conditions. */
export function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [normalize(exports)];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.values(exports).flatMap((value) => exportTargets(value));
}

/** Whether a `.d.ts` or `.d.cts` file, which is the one kind of `.ts` users need. */
function isDeclaration(path: string): boolean {
  return /\.d\.c?ts$/.test(path);
}

function mapProblems(path: string, files: ReadonlySet<string>, readFile: (path: string) => string): string[] {
  let map: SourceMap;
  try {
    map = JSON.parse(readFile(path)) as SourceMap;
  } catch (error) {
    return [`${path}: not a readable source map (${error instanceof Error ? error.message : String(error)})`];
  }
  const sources = Array.isArray(map.sources) ? (map.sources as unknown[]) : [];
  const contents = Array.isArray(map.sourcesContent) ? (map.sourcesContent as unknown[]) : [];
  const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const problems: string[] = [];
  sources.forEach((source, index) => {
    if (typeof contents[index] === 'string') return;
    const resolved = resolveRelative(dir, `${root}${String(source)}`);
    if (!files.has(resolved)) problems.push(`${path}: points at ${String(source)}, which the package does not contain`);
  });
  return problems;
}

/** `dir` + a relative path, with `..` and `.` resolved (POSIX, inside the package). */
function resolveRelative(dir: string, relative: string): string {
  const parts = dir === '' ? [] : dir.split('/');
  for (const part of relative.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}

/**
 * Checks the file list of `npm pack`: only built JavaScript, declarations and
 * docs; no tests and no TypeScript sources; no source map whose sources are
 * neither in the package nor inlined; every entry point present.
 *
 * @param paths - the packed files, relative to the package root
 * @param manifest - the package.json that was packed
 * @param readFile - reads a packed file (for source maps)
 * @returns one line per problem; empty when the package is fine
 */
export function checkPackContents(paths: readonly string[], manifest: PackageEntryPoints, readFile: (path: string) => string): string[] {
  const files = new Set(paths.map(normalize));
  const problems: string[] = [];
  for (const path of files) {
    if (FORBIDDEN.some((pattern) => pattern.test(path))) problems.push(`${path}: a test, fixture or config file`);
    else if (/\.[cm]?tsx?$/.test(path) && !isDeclaration(path)) problems.push(`${path}: a TypeScript source`);
    else if (!ALLOWED.some((pattern) => pattern.test(path))) problems.push(`${path}: not something users need`);
    else if (path.endsWith('.map')) problems.push(...mapProblems(path, files, readFile));
  }
  const entryPoints = [manifest.main, manifest.types, ...exportTargets(manifest.exports)]
    .filter((path): path is string => path !== undefined)
    .map(normalize);
  for (const path of new Set(entryPoints)) {
    if (!files.has(path)) problems.push(`${path}: named in package.json but not packed`);
  }
  for (const path of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!files.has(path)) problems.push(`${path}: missing`);
  }
  return problems;
}
