import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, top to bottom: a folder may import its own layer and the
 * ones above it, never one below (DESIGN.md, "Layout").
 */
const LAYERS = [
  ['constants', 'interfaces', 'errors'],
  ['options', 'codec', 'routing'],
  ['connection'],
  ['delivery'],
  ['context'],
  ['consumers'],
  ['server', 'client'],
  ['decorators', 'filters'],
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

const CONSUMER_ROOMS = ['stream-group', 'list-queue', 'broadcast', 'request-reply'];

function restrict(files, patterns, paths = []) {
  const options = {};
  if (paths.length > 0) options.paths = paths;
  if (patterns.length > 0) {
    options.patterns = [{ group: patterns, message: 'Dependencies in src/ run one way (DESIGN.md, "Layout").' }];
  }
  return { files, rules: { '@typescript-eslint/no-restricted-imports': ['error', options] } };
}

const layerRules = LAYERS.slice(0, -1).flatMap((folders, index) =>
  folders.map((folder) => {
    const extra = [];
    // server/ and client/ never import each other.
    if (folder === 'server') extra.push(...importsOf(['client']));
    if (folder === 'client') extra.push(...importsOf(['server']));
    const paths = ['options', 'codec', 'routing'].includes(folder) ? TYPES_ONLY : [];
    return restrict(filesOf(folder), [...importsOf(below(index)), ...extra], paths);
  }),
);

// No room under consumers/ imports a sibling; what two modes share lives a floor down.
const roomRules = CONSUMER_ROOMS.map((room) =>
  restrict(
    [`src/consumers/${room}/**/*.ts`],
    [...importsOf(below(LAYERS.findIndex((l) => l.includes('consumers')))), ...CONSUMER_ROOMS.filter((r) => r !== room).map((r) => `**/consumers/${r}/**`)],
  ),
);

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '*.config.js'] },
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
  ...roomRules,
);
