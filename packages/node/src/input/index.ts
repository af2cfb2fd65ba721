/**
 * Image and video input for Node: decoding paths, URLs, bytes and raw arrays into core's
 * `ImageU8` (PIL-compatible), folder listing and `auto` input detection like the reference CLI,
 * and video frame extraction with the system ffmpeg (OpenCV-identical frame selection).
 */
export type { DecodeImageOptions, ImageInput, RawImageInput } from './decode-image.js';
export { DEFAULT_MAX_PIXELS, decodeImage } from './decode-image.js';
export type { InputKind, ListImagesOptions } from './listing.js';
export {
  compareCodePoints,
  DEFAULT_IMAGE_EXTENSIONS,
  detectInput,
  IMAGE_EXTENSIONS,
  listImages,
  splitExt,
  VIDEO_EXTENSIONS,
} from './listing.js';
export { DEFAULT_MAX_BYTES } from './source.js';
export type { FfmpegOptions, VideoFrame, VideoFramesOptions, VideoInfo, VideoSampling } from './video.js';
export { extractVideoFrames, frameInterval, probeVideo, resolveFfmpeg, videoFrames } from './video.js';
