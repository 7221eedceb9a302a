/** A TypeScript project file of a compatibility app. */
export interface TsProject {
  /** File name inside the app folder. */
  readonly file: string;
  /** Compiles to dist/ and runs (true), or only type-checks (false). */
  readonly isBuild: boolean;
  readonly compilerOptions: Record<string, unknown>;
}

/** One fresh app made from test/package/app/main.ts and the packed tarball. */
export interface AppSpec {
  readonly name: string;
  /** `module` for an ES module app; absent for CommonJS. */
  readonly type?: 'module';
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
  readonly projects: readonly TsProject[];
}

/** Compiler options shared by every app: what a Nest app has, with library types checked too. */
const COMMON_OPTIONS = {
  target: 'ES2022',
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  // Checks our declarations against each NestJS major's, not only the app.
  skipLibCheck: false,
  rootDir: 'src',
  outDir: 'dist',
  types: ['node'],
};

/**
 * The apps the compatibility script builds and runs: NestJS 12 as an ES
 * module on TypeScript 6 and ioredis 6; NestJS 11 as CommonJS on TypeScript
 * 5.9 and ioredis 5, the other end of every peer range. The NestJS 11 app is
 * also type-checked with `module: nodenext` and `module: node16`, the other
 * settings CommonJS Nest apps use.
 */
export const APPS: readonly AppSpec[] = [
  {
    name: 'nest12-esm',
    type: 'module',
    dependencies: {
      '@nestjs/common': '^12.0.0',
      '@nestjs/core': '^12.0.0',
      '@nestjs/microservices': '^12.0.0',
      '@nestjs/platform-express': '^12.0.0',
      ioredis: '^6.0.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.0',
    },
    devDependencies: { typescript: '^6.0.0', '@types/node': '^20.19.0' },
    projects: [{ file: 'tsconfig.json', isBuild: true, compilerOptions: { ...COMMON_OPTIONS, module: 'nodenext' } }],
  },
  {
    name: 'nest11-cjs',
    dependencies: {
      '@nestjs/common': '^11.0.0',
      '@nestjs/core': '^11.0.0',
      '@nestjs/microservices': '^11.0.0',
      '@nestjs/platform-express': '^11.0.0',
      ioredis: '^5.0.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.0',
    },
    devDependencies: { typescript: '~5.9.0', '@types/node': '^20.19.0' },
    projects: [
      { file: 'tsconfig.json', isBuild: true, compilerOptions: { ...COMMON_OPTIONS, module: 'commonjs' } },
      {
        file: 'tsconfig.nodenext.json',
        isBuild: false,
        compilerOptions: { ...COMMON_OPTIONS, module: 'nodenext', noEmit: true },
      },
      {
        // node16 refuses to require() an ES module's own declarations; the
        // package's CommonJS re-export (dist/index.d.cts) is what it sees, and
        // only with skipLibCheck (NestJS' default) does it not re-check it.
        file: 'tsconfig.node16.json',
        isBuild: false,
        compilerOptions: { ...COMMON_OPTIONS, module: 'node16', skipLibCheck: true, noEmit: true },
      },
    ],
  },
];
