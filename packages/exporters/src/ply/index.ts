/** PLY: the container (header, strict reader) and the point-cloud export of a Prediction. */
export {
  type PlyColumn,
  type PlyElementData,
  type PlyElementInfo,
  type PlyFile,
  type PlyFormat,
  type PlyHeader,
  type PlyListColumn,
  type PlyPropertyInfo,
  type PlyScalarType,
  type ReadPlyOptions,
  PLY_TYPE_SIZE,
  formatPlyFloat32,
  formatPlyFloat64,
  parsePlyHeader,
  plyElement,
  plyHeader,
  plyScalarColumn,
  readPly,
} from './format.js';
export { type ConfidenceThresholdOptions, type WritePlyOptions, type WritePlyResult, plyConfidenceThreshold, writePly } from './points.js';
