/** PLY: the container (header, strict reader) and the point-cloud export of a Prediction. */
export {
  formatPlyFloat32,
  formatPlyFloat64,
  PLY_TYPE_SIZE,
  type PlyColumn,
  type PlyElementData,
  type PlyElementInfo,
  type PlyFile,
  type PlyFormat,
  type PlyHeader,
  type PlyListColumn,
  type PlyPropertyInfo,
  type PlyScalarType,
  parsePlyHeader,
  plyElement,
  plyHeader,
  plyScalarColumn,
  type ReadPlyOptions,
  readPly,
} from './format.js';
export { type ConfidenceThresholdOptions, plyConfidenceThreshold, type WritePlyOptions, type WritePlyResult, writePly } from './points.js';
