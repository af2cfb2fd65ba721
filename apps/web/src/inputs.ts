/**
 * The input section: a file input and a drop zone for several images or one video, the video's
 * sampling-FPS slider, thumbnails of the selection, and what the worker is given: image files
 * (decoded in the worker by @da3js/web's `decodeImage` — exact pixels, EXIF orientation as stored,
 * like the reference) or, for a video, frames sampled here (`sampleVideo` needs a `<video>`
 * element, which workers lack).
 */
import type { ImageU8 } from '@da3js/core';
import { sampleVideo } from '@da3js/web';
import { byId } from './dom.js';

/** The current selection: images, or one video. */
export interface InputSelection {
  readonly images: readonly File[];
  readonly video: File | null;
}

/** The input section. */
export interface InputsUi {
  selection(): InputSelection;
  /** Replaces the selection (drop, file input, examples). */
  setFiles(files: readonly File[]): void;
  /**
   * What to send to the worker: the image files as they are, or the video's frames sampled at the
   * slider's FPS (cancellable with `signal`; `onFrame` after each frame).
   */
  prepare(signal: AbortSignal, onFrame?: (done: number) => void): Promise<(File | ImageU8)[]>;
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
  const thumbs = byId('thumbs');
  let current: InputSelection = { images: [], video: null };
  let urls: string[] = [];

  const showThumbs = () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = current.images.slice(0, 12).map((f) => URL.createObjectURL(f));
    thumbs.replaceChildren(
      ...urls.map((u, i) => {
        const li = document.createElement('li');
        const img = document.createElement('img');
        img.src = u;
        img.alt = current.images[i].name;
        li.appendChild(img);
        return li;
      }),
    );
  };

  const take = (files: readonly File[]) => {
    const video = files.find(isVideo) ?? null;
    current = video ? { images: [], video } : { images: files.filter((f) => !isVideo(f)), video: null };
    byId('video-options').hidden = !current.video;
    const n = current.images.length;
    byId('input-summary').textContent = current.video
      ? `Video: ${current.video.name}`
      : n
        ? `${n} image${n === 1 ? '' : 's'}: ${current.images.map((f) => f.name).join(', ')}`
        : 'No input yet.';
    showThumbs();
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
    setFiles: take,
    async prepare(signal, onFrame) {
      if (current.video) {
        let n = 0;
        return sampleVideo(current.video, { fps: Number(fps.value), maxFrames: MAX_VIDEO_FRAMES, signal, onFrame: () => onFrame?.(++n) });
      }
      return [...current.images];
    },
  };
}
