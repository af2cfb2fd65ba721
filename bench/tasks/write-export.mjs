// node write-export.mjs FORMAT POINTS RUNS — time a 1-view prediction with POINTS valid pixels written
// in FORMAT (ply | glb) into a counting sink; reports the median ms and peak RSS.
import { createPrediction } from '@da3js/core';
import * as exporters from '@da3js/exporters';
import { median, peakRssMiB, report } from './common.mjs';

const [format, points = '1000000', runs = '5'] = process.argv.slice(2);
const side = Math.round(Math.sqrt(Number(points)));
const n = side * side;
const depth = new Float32Array(n);
const conf = new Float32Array(n).fill(2);
const images = new Uint8Array(n * 3);
let s = 7;
for (let i = 0; i < n; i++) {
  s = (s * 1664525 + 1013904223) >>> 0;
  depth[i] = 1 + (s / 2 ** 32) * 4;
  images[i * 3] = s & 255;
  images[i * 3 + 1] = (s >> 8) & 255;
  images[i * 3 + 2] = (s >> 16) & 255;
}
const prediction = createPrediction({
  views: 1,
  height: side,
  width: side,
  depth,
  conf,
  processedImages: images,
  extrinsics: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0),
  intrinsics: Float32Array.of(side, 0, side / 2, 0, side, side / 2, 0, 0, 1),
});
const writers = {
  ply: (sink) => exporters.writePly(prediction, sink, { format: 'binary' }),
  glb: (sink) => exporters.writeGlb(prediction, sink, { numMaxPoints: n }),
};
if (!writers[format] || (format === 'glb' && !exporters.writeGlb)) {
  report({ task: 'write-export', format, skipped: `no ${format} writer in this build` });
  process.exit(0);
}
const times = [];
let bytes = 0;
for (let r = 0; r < Number(runs); r++) {
  let b = 0;
  const sink = { write: (c) => void (b += c.byteLength), close: () => {} };
  const t = performance.now();
  await writers[format](sink);
  times.push(performance.now() - t);
  bytes = b;
}
report({ task: 'write-export', format, points: n, bytes, medianMs: Math.round(median(times)), runs: times.map(Math.round), peakRssMiB: peakRssMiB() });
