import { defineConfig } from 'tsup';

export default defineConfig([
  // The `da3` CLI (bin), ESM only.
  { entry: ['src/cli/bin.ts'], format: ['esm'], outDir: 'dist/cli', sourcemap: true, target: 'es2022' },
  // The library: ESM + CJS + types.
  { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, target: 'es2022', shims: true },
  // The `da3 gallery` viewer: browser code with three.js (a devDependency) bundled in, tree-shaken
  // and minified, served by the gallery itself from dist/gallery/ (no CDN).
  {
    entry: { viewer: 'src/gallery/viewer/main.ts' },
    format: ['esm'],
    outDir: 'dist/gallery',
    platform: 'browser',
    target: 'es2022',
    noExternal: [/^three/],
    minify: true,
    sourcemap: false, // three's sources would make it 3 MB
    splitting: false,
    outExtension: () => ({ js: '.js' }),
  },
]);
