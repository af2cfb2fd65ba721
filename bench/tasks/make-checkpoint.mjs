// node make-checkpoint.mjs VARIANT OUT.safetensors SEED — a seeded random checkpoint with official key names.
import { VARIANTS, makeRandomCheckpoint } from '@da3js/core';
import { fileSink, peakRssMiB, report } from './common.mjs';

const [variant, out, seed = '0'] = process.argv.slice(2);
const t0 = performance.now();
const summary = await makeRandomCheckpoint(VARIANTS[variant].config, { seed: Number(seed), sink: fileSink(out) });
report({ task: 'make-checkpoint', variant, ms: Math.round(performance.now() - t0), bytes: summary.byteLength, peakRssMiB: peakRssMiB() });
