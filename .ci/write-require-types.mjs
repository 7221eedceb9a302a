// Writes dist/index.d.cts and dist/health/terminus.d.cts, the types of the package's "require" conditions.
//
// The package is an ES module; Node >= 20.19 (and >= 22.12) can require() it.
// TypeScript with `module: nodenext` (5.8+) or `module: commonjs` accepts the
// ESM declarations for a require() call, but `module: node16` (and older
// TypeScript with nodenext) refuses them (TS1479), although the emitted
// require() works at run time. A CommonJS-format declaration file that
// re-exports the ESM one gives those setups the same types (with skipLibCheck,
// NestJS' default, TypeScript does not re-check that re-export).
//
// arethetypeswrong calls this "masquerading as CJS" (CommonJS-format types for
// an ES module). Harmless here: only require() sees them, require() of this
// package returns its ES namespace, and the package has no default export
// whose interop could differ between the two formats.
import { writeFileSync } from 'node:fs';

for (const [file, entry] of [
  ['index.d.cts', 'nestjs-redis-streams'],
  ['health/terminus.d.cts', 'nestjs-redis-streams/terminus'],
]) {
  const base = file.split('/').at(-1).replace('.d.cts', '');
  writeFileSync(
    new URL(`../dist/${file}`, import.meta.url),
    `// Types for require('${entry}'); the same as ${base}.d.ts.\nexport * from './${base}.js';\n`,
  );
}
