import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/config.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
