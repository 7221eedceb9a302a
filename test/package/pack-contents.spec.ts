import { checkPackContents, exportTargets } from './pack-contents.js';

const MANIFEST = {
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.js' },
    },
    './package.json': './package.json',
  },
};

const GOOD = [
  'package.json',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/index.d.cts',
  'dist/server/redis-streams.server.js',
  'dist/server/redis-streams.server.d.ts',
];

const noFile = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

describe('checkPackContents', () => {
  it('accepts built JavaScript, declarations and docs', () => {
    expect(checkPackContents(GOOD, MANIFEST, noFile)).toEqual([]);
  });

  it.each([
    ['src/index.ts', 'a TypeScript source'],
    ['dist/index.ts', 'a TypeScript source'],
    ['test/unit/backoff.spec.ts', 'a test, fixture or config file'],
    ['dist/codec/stream-codec.spec.js', 'a test, fixture or config file'],
    ['tsconfig.build.json', 'a test, fixture or config file'],
    ['sample/main.js', 'a test, fixture or config file'],
    ['.ci/run', 'not something users need'],
  ])('refuses %s', (path, reason) => {
    expect(checkPackContents([...GOOD, path], MANIFEST, noFile)).toEqual([`${path}: ${reason}`]);
  });

  it('refuses a source map whose sources are neither packed nor inlined', () => {
    const maps: Record<string, string> = {
      'dist/index.js.map': JSON.stringify({ sources: ['../src/index.ts'] }),
      'dist/a.js.map': JSON.stringify({ sources: ['../src/a.ts'], sourcesContent: ['export {}'] }),
    };
    const problems = checkPackContents([...GOOD, ...Object.keys(maps)], MANIFEST, (path) => maps[path] ?? '');
    expect(problems).toEqual(['dist/index.js.map: points at ../src/index.ts, which the package does not contain']);
  });

  it('names entry points and docs that are missing', () => {
    const files = GOOD.filter((path) => path !== 'dist/index.d.cts' && path !== 'LICENSE');
    expect(checkPackContents(files, MANIFEST, noFile)).toEqual([
      'dist/index.d.cts: named in package.json but not packed',
      'LICENSE: missing',
    ]);
  });

  it('finds every target of a nested exports map', () => {
    expect(exportTargets(MANIFEST.exports)).toEqual([
      'dist/index.d.ts',
      'dist/index.js',
      'dist/index.d.cts',
      'dist/index.js',
      'package.json',
    ]);
  });
});
