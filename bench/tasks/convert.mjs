// node convert.mjs VARIANT IN.safetensors OUT.onnx [fp32|fp16] [fused|plain] — checkpoint → ONNX, streamed.
import { SafetensorsFile, VARIANTS, convertCheckpoint } from '@da3js/core';
import { fileByteSource, fileSink, peakRssMiB, report } from './common.mjs';

const [variant, input, out, precision = 'fp32', attention = 'fused'] = process.argv.slice(2);
const t0 = performance.now();
const source = fileByteSource(input);
const file = await SafetensorsFile.open(source);
const result = await convertCheckpoint(file, VARIANTS[variant].config, {
  precision: precision === 'fp16' ? 'float16' : 'float32',
  refViewStrategy: 'saddle_balanced',
  fusedAttention: attention === 'fused',
  output: () => ({ sink: fileSink(out), externalDataSink: fileSink(`${out}.data`), externalDataLocation: `${out.split('/').pop()}.data` }),
});
source.close();
report({
  task: 'convert',
  variant,
  precision,
  attention,
  ms: Math.round(performance.now() - t0),
  weightBytes: result.graphs[0].weightBytes,
  externalData: result.graphs[0].externalData,
  peakRssMiB: peakRssMiB(),
});
