import { defineConfig } from 'tsup';

export default defineConfig([
  // The `da3` CLI (bin), ESM only.
  { entry: ['src/cli/bin.ts'], format: ['esm'], outDir: 'dist/cli', sourcemap: true, target: 'es2022' },
  // The library: ESM + CJS + types.
  { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, target: 'es2022', shims: true },
]);
