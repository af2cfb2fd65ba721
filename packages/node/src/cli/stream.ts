import { resolve } from 'node:path';
import { Da3Error, isDa3Error, StreamError, type StreamProgress } from '@da3js/core';
import { detectInput, frameInterval, listImages, probeVideo, videoFrames } from '../input/index.js';
import type { Da3ProgressEvent, NodeImageInput } from '../model/depth-anything-3.js';
import { inputKeyOf, streamToDirectory } from '../stream/stream.js';
import type { CliArgs } from './args.js';
import { loadCliModel } from './load-model.js';

/** What `da3 stream` reads: frames and, when known, how many. */
interface StreamInput {
  readonly kind: 'video' | 'images';
  readonly frames: AsyncIterable<NodeImageInput> | Iterable<NodeImageInput>;
  readonly expectedFrames?: number;
  readonly inputKey: string;
}

async function streamInput(args: CliArgs, signal?: AbortSignal): Promise<StreamInput> {
  const input = args.input!;
  const kind = await detectInput(input);
  if (kind === 'video') {
    const info = await probeVideo(input, { signal });
    const interval = frameInterval(info.fps, args.fps);
    return {
      kind,
      frames: videoFrames(input, { fps: args.fps, signal }),
      // The container's frame count, when it records one: a video that ends before it is reported.
      expectedFrames: info.frameCount ? Math.ceil(info.frameCount / interval) : undefined,
      inputKey: `${await inputKeyOf([input])}@${args.fps}fps`,
    };
  }
  if (kind === 'images') {
    const paths = await listImages(input, { extensions: args.imageExtensions });
    if (paths.length === 0) throw new Da3Error('EMPTY_INPUT', `no images found in ${input} (extensions: ${args.imageExtensions.join(', ')})`);
    // Names only: a frame fixed after a failed decode keeps the state resumable.
    const { createHash } = await import('node:crypto');
    const inputKey = createHash('sha256').update(paths.map((p) => resolve(p)).join('\n')).digest('hex').slice(0, 32);
    return { kind, frames: paths, expectedFrames: paths.length, inputKey };
  }
  throw new Da3Error('BAD_VALUE', `stream takes a video or a folder of images; ${input} is ${kind === 'image' ? 'one image (use da3 image)' : 'a COLMAP folder (use da3 colmap)'}`);
}

/** `da3 stream <video|folder>`: DA3-Streaming into --export-dir (resumable). */
export async function streamCommand(args: CliArgs, progress: (e: Da3ProgressEvent | StreamProgress) => void, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const input = await streamInput(args, signal);
  if (args.loopDetect && input.kind === 'video') {
    throw new Da3Error('BAD_VALUE', '--loop-closure auto keeps every input frame until the loop stage, too many decoded video frames: give --loop-pairs, or extract the frames to a folder');
  }
  const loopClosure =
    args.loopPairs.length || args.loopDetect
      ? { pairs: args.loopPairs, ...(args.loopDetect ? { detect: { similarityThreshold: args.loopSimilarity } } : {}), loopChunkSize: args.loopChunkSize }
      : undefined;
  const model = await loadCliModel(args, { progress, signal });
  try {
    const result = await streamToDirectory(model, input.frames, {
      dir: args.exportDir,
      chunkSize: args.chunkSize,
      overlap: args.overlap,
      align: { method: args.alignMethod },
      sampleRatio: args.sampleRatio,
      confThresholdCoef: args.confThresholdCoef,
      saveDepthConf: args.saveDepthConf,
      restart: args.restart,
      loopClosure,
      expectedFrames: input.expectedFrames,
      inputKey: input.inputKey,
      processRes: args.processRes,
      processResMethod: args.processResMethod,
      refViewStrategy: args.refViewStrategy,
      useRayPose: args.useRayPose,
      applyExifOrientation: args.applyExifOrientation,
      onProgress: progress,
      signal,
    });
    return {
      command: 'stream',
      kind: input.kind,
      frames: result.frames,
      chunks: result.chunks,
      resumedChunks: result.resumedChunks,
      ...(result.loopClosure ? { loops: result.loopClosure.loops.map((l) => ({ frames: l.frames, chunks: [l.pair.chunkA, l.pair.chunkB] })) } : {}),
      width: result.width,
      height: result.height,
      device: model.device?.device,
      dir: result.dir,
      files: result.files,
    };
  } finally {
    await model.dispose();
  }
}

/** The line `da3 stream` ends with when it stops early: what was kept and how to continue. */
export function streamStoppedLine(args: CliArgs, error: unknown): string {
  const dir = resolve(args.exportDir);
  const done = error instanceof StreamError ? error.chunksDone : 0;
  if (error instanceof StreamError && error.finalized) return `da3: the outputs of the ${error.framesDone} frames that came were written to ${dir}\n`;
  if (isDa3Error(error, 'ABORTED') || error instanceof StreamError) {
    return done
      ? `da3: ${done} finished chunk(s) (${(error as StreamError).framesDone} frames) are kept in ${dir}; run the same command again to continue\n`
      : '';
  }
  return '';
}
