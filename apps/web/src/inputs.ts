/**
 * The input section: a file input and a drop zone for several images or one video, the video's
 * sampling-FPS slider, and decoding into RGBA {@link ImageU8} frames in the page (@da3js/web's
 * `decodeImage` — exact pixels, EXIF orientation as stored, like the reference — and `sampleVideo`).
 */
import type { ImageU8 } from '@da3js/core';
import { decodeImage, sampleVideo } from '@da3js/web';
import { byId } from './dom.js';

/** The current selection: images, or one video. */
export interface InputSelection {
  readonly images: readonly File[];
  readonly video: File | null;
}

/** The input section. */
export interface InputsUi {
  selection(): InputSelection;
  /** Decodes the selection (images as they are, the video sampled at the slider's FPS). */
  decode(onFrame?: (done: number, total: number | null) => void): Promise<ImageU8[]>;
}

/** Video frames kept at most (memory and time grow with the number of views). */
export const MAX_VIDEO_FRAMES = 64;

const isVideo = (f: File) => f.type.startsWith('video/') || /\.(mp4|webm|mov|mkv|ogv)$/i.test(f.name);

/** Wires the file input, the drop zone and the FPS slider. `onChange` runs after each selection. */
export function createInputs(onChange: (s: InputSelection) => void): InputsUi {
  const input = byId<HTMLInputElement>('file-input');
  const zone = byId('drop-zone');
  const fps = byId<HTMLInputElement>('video-fps');
  const fpsValue = byId<HTMLOutputElement>('video-fps-value');
  let current: InputSelection = { images: [], video: null };

  const take = (files: readonly File[]) => {
    const video = files.find(isVideo) ?? null;
    current = video ? { images: [], video } : { images: files.filter((f) => !isVideo(f)), video: null };
    byId('video-options').hidden = !current.video;
    byId('input-summary').textContent = current.video
      ? `Video: ${current.video.name}`
      : current.images.length
        ? `${current.images.length} image${current.images.length === 1 ? '' : 's'}: ${current.images.map((f) => f.name).join(', ')}`
        : 'No input yet.';
    onChange(current);
  };

  input.addEventListener('change', () => take(Array.from(input.files ?? [])));
  fps.addEventListener('input', () => {
    fpsValue.textContent = fps.value;
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    take(Array.from(e.dataTransfer?.files ?? []));
  });

  return {
    selection: () => current,
    async decode(onFrame) {
      if (current.video) {
        let n = 0;
        return sampleVideo(current.video, { fps: Number(fps.value), maxFrames: MAX_VIDEO_FRAMES, onFrame: () => onFrame?.(++n, null) });
      }
      const out: ImageU8[] = [];
      for (const f of current.images) {
        out.push(await decodeImage(f));
        onFrame?.(out.length, current.images.length);
      }
      return out;
    },
  };
}
