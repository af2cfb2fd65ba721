import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', graph: 'src/graph.ts', protocol: 'src/protocol/index.ts' },
  // Shared chunks in CJS too, so each entry does not carry its own copy of the code.
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
