// node convert.mjs VARIANT IN.safetensors OUT.onnx [fp32|fp16] [fused|plain] [rays|norays] [external|embedded]
// — checkpoint → ONNX, streamed. Defaults: fp32, fused attention, with the ray branch, weights in
// OUT.onnx.data (external data, as @da3js/node's graph cache writes them). Reports the files' sizes.
import { statSync } from 'node:fs';
import { SafetensorsFile, VARIANTS, convertCheckpoint } from '@da3js/core';
import { fileByteSource, fileSink, peakRssMiB, report } from './common.mjs';

const [variant, input, out, precision = 'fp32', attention = 'fused', rays = 'rays', data = 'external'] = process.argv.slice(2);
const t0 = performance.now();
const source = fileByteSource(input);
const file = await SafetensorsFile.open(source);
const result = await convertCheckpoint(file, VARIANTS[variant].config, {
  precision: precision === 'fp16' ? 'float16' : 'float32',
  refViewStrategy: 'saddle_balanced',
  fusedAttention: attention === 'fused',
  rays: rays !== 'norays',
  externalData: data === 'embedded' ? 'auto' : 'always',
  output: () => ({ sink: fileSink(out), externalDataSink: fileSink(`${out}.data`), externalDataLocation: `${out.split('/').pop()}.data` }),
});
source.close();
const size = (p) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};
report({
  task: 'convert',
  variant,
  precision,
  attention,
  rays: rays !== 'norays',
  ms: Math.round(performance.now() - t0),
  weightBytes: result.graphs[0].weightBytes,
  externalData: result.graphs[0].externalData,
  outputs: result.graphs[0].outputs,
  fileBytes: size(out) + size(`${out}.data`),
  peakRssMiB: peakRssMiB(),
});
