export { type MatMulQuantization, type QuantizeGraphOptions, type QuantizeGraphReport, quantizeGraph } from './quantize-graph.js';
export { type BlockQuantized, type PerColumnQuantized, quantizeBlockwise, quantizePerColumn, quantizePerOutputChannel } from './weights.js';
