/**
 * Writing and reading a whole COLMAP sparse model (the three files), in text or binary.
 */
import { Da3Error, type Sink } from '@da3js/core';
import { ChunkWriter } from '../writer.js';
import { parseCamerasBinary, parseImagesBinary, parsePoints3DBinary, writeCamerasBinary, writeImagesBinary, writePoints3DBinary } from './binary.js';
import { COLMAP_FILES, type ColmapFormat, type ColmapModel, validateColmapModel } from './model.js';
import { parseCamerasText, parseImagesText, parsePoints3DText, writeCamerasText, writeImagesText, writePoints3DText } from './text.js';

/** Opens the sink of one output file, by its name (`cameras.bin`, …). */
export type ColmapSinkFactory = (fileName: string) => Sink | Promise<Sink>;

/** What {@link writeColmapModel} wrote. */
export interface ColmapWriteResult {
  format: ColmapFormat;
  /** File name → bytes written. */
  files: Record<string, number>;
}

/**
 * Writes `model` as the three COLMAP files `cameras`, `images`, `points3D` (`.txt` or `.bin`),
 * each into its own sink from `openSink(fileName)`.
 *
 * All or nothing as far as the sinks allow: the model is validated first (nothing is opened when it
 * is invalid), the three files are written, and only then are the three sinks closed; when anything
 * fails, every sink not yet closed is aborted (so a Node temp-file sink leaves no file behind).
 *
 * @throws Da3Error `BAD_VALUE` / `BAD_SHAPE` / `NON_FINITE` from {@link validateColmapModel}
 *   (consistency included), `BAD_VALUE` for image names with whitespace in text files; any
 *   error of a sink, after the aborts.
 */
export async function writeColmapModel(model: ColmapModel, openSink: ColmapSinkFactory, format: ColmapFormat = 'binary'): Promise<ColmapWriteResult> {
  if (format !== 'text' && format !== 'binary') throw new Da3Error('BAD_VALUE', `writeColmap: format must be 'text' or 'binary', got ${JSON.stringify(format)}`);
  validateColmapModel(model, 'writeColmap');
  if (format === 'text') {
    const bad = model.images.find((im) => /\s/.test(im.name));
    if (bad) {
      throw new Da3Error('BAD_VALUE', `writeColmap: image name ${JSON.stringify(bad.name)} contains whitespace, which COLMAP text files cannot hold (use the binary format)`);
    }
  }
  const names = COLMAP_FILES[format];
  const sinks: Sink[] = [];
  const closed: boolean[] = [];
  try {
    for (const name of names) {
      sinks.push(await openSink(name));
      closed.push(false);
    }
    const outs = sinks.map((s) => new ChunkWriter(s));
    if (format === 'text') {
      await writeCamerasText(model.cameras, outs[0]);
      await writeImagesText(model, outs[1]);
      await writePoints3DText(model.points, outs[2]);
    } else {
      await writeCamerasBinary(model.cameras, outs[0]);
      await writeImagesBinary(model.images, outs[1]);
      await writePoints3DBinary(model.points, outs[2]);
    }
    for (const out of outs) await out.flush();
    const files: Record<string, number> = {};
    for (let k = 0; k < outs.length; k++) {
      await outs[k].close();
      closed[k] = true;
      files[names[k]] = outs[k].written;
    }
    return { format, files };
  } catch (error) {
    for (let k = 0; k < sinks.length; k++) {
      if (closed[k]) continue;
      try {
        await sinks[k].abort?.(error);
      } catch {
        // the original error is the one to report
      }
    }
    throw error;
  }
}

/** Returns a file's bytes by name (`cameras.bin`, …), `undefined` when it does not exist. */
export type ColmapFileOpener = (fileName: string) => Uint8Array | undefined;

/** Options of {@link readColmap}. */
export interface ReadColmapOptions {
  /** Which files to read; default: binary when `cameras.bin` exists, else text (COLMAP's rule). */
  format?: ColmapFormat;
  /**
   * Cross-check cameras, keypoints and tracks ({@link validateColmapModel}); default true. Ids,
   * shapes and numbers are always checked.
   */
  checkConsistency?: boolean;
}

/** A model read by {@link readColmap}, with the format it came in. */
export interface ColmapReadResult extends ColmapModel {
  format: ColmapFormat;
}

/**
 * Reads a COLMAP sparse model (`cameras`, `images`, `points3D`; `.bin` or `.txt`) through
 * `openFile(name)` (node: `readFileSync` in the sparse folder; web: files of a zip or a folder
 * picker). Newer COLMAP's `rigs` / `frames` files are not read (COLMAP reads models without them
 * as one rig per camera and one frame per image, which is what DA3 uses).
 *
 * Strict: every count, id, number and (by default) cross-reference is checked.
 * @throws Da3Error `IO` (a file missing, a truncated binary file), `BAD_VALUE` (malformed text,
 *   unknown camera model, bad ids, trailing bytes, inconsistent keypoints/tracks), `NON_FINITE`.
 */
export function readColmap(openFile: ColmapFileOpener, options: ReadColmapOptions = {}): ColmapReadResult {
  let format = options.format;
  if (format !== undefined && format !== 'text' && format !== 'binary') {
    throw new Da3Error('BAD_VALUE', `readColmap: format must be 'text' or 'binary', got ${JSON.stringify(format)}`);
  }
  let first: Uint8Array | undefined;
  if (format === undefined) {
    first = openFile(COLMAP_FILES.binary[0]);
    if (first !== undefined) format = 'binary';
    else {
      first = openFile(COLMAP_FILES.text[0]);
      if (first === undefined) throw new Da3Error('IO', 'readColmap: neither cameras.bin nor cameras.txt exists');
      format = 'text';
    }
  }
  const names = COLMAP_FILES[format];
  const bytes = names.map((name, k) => {
    const b = k === 0 && first !== undefined ? first : openFile(name);
    if (b === undefined) throw new Da3Error('IO', `readColmap: ${name} does not exist (a ${format} model needs ${names.join(', ')})`);
    if (!(b instanceof Uint8Array)) throw new Da3Error('BAD_VALUE', `readColmap: openFile('${name}') must return a Uint8Array`);
    return b;
  });
  const model: ColmapReadResult =
    format === 'binary'
      ? { format, cameras: parseCamerasBinary(bytes[0]), images: parseImagesBinary(bytes[1]), points: parsePoints3DBinary(bytes[2]) }
      : { format, cameras: parseCamerasText(bytes[0]), images: parseImagesText(bytes[1]), points: parsePoints3DText(bytes[2]) };
  validateColmapModel(model, 'readColmap', options.checkConsistency ?? true);
  return model;
}
