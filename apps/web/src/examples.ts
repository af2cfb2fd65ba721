/**
 * Example scenes bundled with the app (`public/examples/`: the repository's examples/scene, four
 * rendered views of one room, 320×240 PNGs). One click loads them as the input and runs.
 */
import { byId } from './dom.js';

/** One example. */
export interface Example {
  readonly id: string;
  readonly title: string;
  readonly detail: string;
  /** Image paths relative to the page. */
  readonly files: readonly string[];
}

/** The bundled examples. */
export const EXAMPLES: readonly Example[] = [
  { id: 'room-4', title: 'Room, 4 views', detail: 'depth + cameras + point cloud', files: [0, 1, 2, 3].map((i) => `examples/scene/view${i}.png`) },
  { id: 'room-1', title: 'Room, 1 view', detail: 'monocular depth', files: ['examples/scene/view0.png'] },
];

/** Fetches an example's images as Files (named like the originals). */
export async function exampleFiles(example: Example, base: string = document.baseURI): Promise<File[]> {
  return Promise.all(
    example.files.map(async (path) => {
      const res = await fetch(new URL(path, base));
      if (!res.ok) throw new Error(`example ${example.id}: ${path} answered HTTP ${res.status}`);
      return new File([await res.blob()], path.split('/').pop() ?? path, { type: 'image/png' });
    }),
  );
}

/** Adds one button per example; `onPick` gets the example when clicked. */
export function createExampleButtons(onPick: (example: Example) => void): HTMLButtonElement[] {
  const box = byId('examples');
  return EXAMPLES.map((ex) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'example';
    b.id = `example-${ex.id}`;
    b.dataset.example = ex.id;
    b.setAttribute('aria-label', `Run the example: ${ex.title} (${ex.detail})`);
    const img = document.createElement('img');
    img.src = ex.files[0];
    img.alt = '';
    img.width = 160;
    img.height = 120;
    const text = document.createElement('span');
    const strong = document.createElement('strong');
    strong.textContent = ex.title;
    text.append(strong, ex.detail);
    b.append(img, text);
    b.addEventListener('click', () => onPick(ex));
    box.appendChild(b);
    return b;
  });
}
