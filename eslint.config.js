import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import js from '@eslint/js';
import ts from 'typescript';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, top to bottom: a folder may import its own layer and the
 * ones above it, never one below (DESIGN.md, "Layout").
 */
const LAYERS = [
  ['constants', 'interfaces', 'errors'],
  ['options', 'codec', 'routing'],
  ['connection'],
  ['delivery', 'telemetry'],
  ['context'],
  ['consumers'],
  ['server', 'client'],
  ['admin'],
  ['decorators', 'filters', 'cli', 'health'],
];

/** Glob patterns of imports of the given src/ folders, from anywhere inside src/. */
function importsOf(folders) {
  return folders.flatMap((folder) => [`**/${folder}/**`, `**/${folder}.js`]);
}

/** The folders below a layer. */
function below(index) {
  return LAYERS.slice(index + 1).flat();
}

/** Files of a folder (or of the top-level module of that name). */
function filesOf(folder) {
  return [`src/${folder}/**/*.ts`, `src/${folder}.ts`];
}

/** Pure modules import only types from the Redis driver and NestJS. */
const TYPES_ONLY = ['ioredis', '@nestjs/common', '@nestjs/core', '@nestjs/microservices', 'rxjs'].map((name) => ({
  name,
  allowTypeImports: true,
  message: 'options/, codec/ and routing/ are pure: import only types from the driver and NestJS.',
}));

/**
 * Optional peers load only behind their own subpath, never from the main
 * entry; @opentelemetry/api only as types in src/telemetry/, which loads it
 * with a dynamic import() when a server listens or a client connects.
 */
const OPTIONAL_PEERS = [
  {
    name: '@nestjs/terminus',
    home: 'health',
    message: 'Only src/health/ (the nestjs-redis-streams/terminus subpath) may import @nestjs/terminus.',
  },
  {
    name: '@opentelemetry/api',
    home: 'telemetry',
    typesAtHome: true,
    message: 'Only src/telemetry/ may name @opentelemetry/api, with type imports (it loads the API with import()).',
  },
];

/** The optional-peer restrictions of a src/ folder. */
function optionalPeersOf(folder) {
  return OPTIONAL_PEERS.filter((peer) => peer.home !== folder || peer.typesAtHome).map(({ name, home, typesAtHome, message }) =>
    home === folder && typesAtHome ? { name, message, allowTypeImports: true } : { name, message },
  );
}

const CONSUMER_ROOMS = ['stream-group', 'list-queue', 'broadcast', 'request-reply'];

function restrict(files, patterns, paths = []) {
  const options = {};
  if (paths.length > 0) options.paths = paths;
  if (patterns.length > 0) {
    options.patterns = [{ group: patterns, message: 'Dependencies in src/ run one way (DESIGN.md, "Layout").' }];
  }
  return { files, rules: { '@typescript-eslint/no-restricted-imports': ['error', options] } };
}

const layerRules = LAYERS.flatMap((folders, index) =>
  folders.map((folder) => {
    const extra = [];
    // server/ and client/ never import each other.
    if (folder === 'server') extra.push(...importsOf(['client']));
    if (folder === 'client') extra.push(...importsOf(['server']));
    const paths = [...(['options', 'codec', 'routing'].includes(folder) ? TYPES_ONLY : []), ...optionalPeersOf(folder)];
    return restrict(filesOf(folder), [...importsOf(below(index)), ...extra], paths);
  }),
);

// The main entry itself names no optional peer either.
const entryRules = [restrict(['src/index.ts'], [], optionalPeersOf('index'))];

// No room under consumers/ imports a sibling; what two modes share lives a floor down.
const roomRules = CONSUMER_ROOMS.map((room) =>
  restrict(
    [`src/consumers/${room}/**/*.ts`],
    [
      ...importsOf(below(LAYERS.findIndex((l) => l.includes('consumers')))),
      ...CONSUMER_ROOMS.filter((r) => r !== room).map((r) => `**/consumers/${r}/**`),
    ],
    optionalPeersOf('consumers'),
  ),
);

/**
 * The relative imports of every file under src/, type-only ones included, as
 * a map from absolute path to the absolute paths it imports. Built once per
 * lint run.
 */
let importGraph;
function graphOf(srcDir) {
  if (importGraph !== undefined) return importGraph;
  importGraph = new Map();
  const files = readdirSync(srcDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    const targets = [];
    for (const statement of source.statements) {
      const specifier = statement.moduleSpecifier;
      if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
      targets.push(resolve(dirname(file), specifier.text.replace(/\.js$/, '.ts')));
    }
    importGraph.set(file, targets);
  }
  return importGraph;
}

/** A path of imports from `from` back to `to`, or undefined. */
function pathBack(graph, from, to) {
  const seen = new Set();
  const walk = (file, trail) => {
    if (file === to) return trail;
    if (seen.has(file)) return undefined;
    seen.add(file);
    for (const next of graph.get(file) ?? []) {
      const found = walk(next, [...trail, next]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(from, [from]);
}

/** Fails on any import that is part of a cycle between files of src/. */
const noImportCycle = {
  meta: { type: 'problem', schema: [], messages: { cycle: 'Import cycle: {{cycle}}. Move what both files need a floor down.' } },
  create(context) {
    const srcDir = join(context.cwd, 'src');
    const file = context.filename;
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      const trail = pathBack(graphOf(srcDir), target, file);
      if (trail === undefined) return;
      const cycle = [file, ...trail].map((f) => relative(srcDir, f)).join(' → ');
      context.report({ node, messageId: 'cycle', data: { cycle } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default tseslint.config(
  {
    // test/package/app is a user's app, built against the packed package by test/package/run.ts.
    ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '*.config.js', 'test/package/app/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  ...layerRules,
  ...entryRules,
  ...roomRules,
  {
    files: ['src/**/*.ts'],
    plugins: { local: { rules: { 'no-import-cycle': noImportCycle } } },
    rules: { 'local/no-import-cycle': 'error' },
  },
);
