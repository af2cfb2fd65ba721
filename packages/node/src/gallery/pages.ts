/**
 * The gallery's two HTML pages, rendered on the server with every name escaped. Neither holds an
 * inline script or style (the pages are served with `script-src 'self'`, `style-src 'self'`): the
 * viewer's behaviour is `/_da3/viewer.js`, bundled from ./viewer at build time, and it reads what
 * it needs from `data-` attributes.
 */
import type { SceneInfo } from './scene-info.js';

/** URL prefix of the gallery's own files (viewer script and stylesheet). */
export const ASSET_PREFIX = '/_da3/';

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `/<scene>/<file>` (`/<scene>/` without a file) with every segment percent-encoded. */
export function fileUrl(scene: string, file = ''): string {
  const segments = (p: string) => p.split('/').filter(Boolean).map(encodeURIComponent);
  return `/${[...segments(scene), ''].join('/')}${segments(file).join('/')}`;
}

/** `1.2 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function head(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="${ASSET_PREFIX}favicon.svg">
<link rel="stylesheet" href="${ASSET_PREFIX}viewer.css">
</head>`;
}

function fileList(scene: SceneInfo): string {
  const items = scene.files.map((f) => `<li><a href="${escapeHtml(fileUrl(scene.name, f.name))}" download>${escapeHtml(f.name)}</a> <span class="size">${formatBytes(f.size)}</span></li>`);
  if (scene.truncated) items.push('<li class="more">(more files not listed)</li>');
  return `<ul class="files">${items.join('')}</ul>`;
}

function meta(scene: SceneInfo): string {
  const parts = [`<span class="views" data-views="${scene.views}">${count(scene.views, 'view')}</span>`];
  if (scene.glb) parts.push(`<span class="points" data-points="${scene.glb.points}">${count(scene.glb.points, 'point')}</span>`);
  parts.push(`<span class="bytes" data-bytes="${scene.totalBytes}">${formatBytes(scene.totalBytes)}</span>`);
  return parts.join(' · ');
}

/** The index: one card per scene (thumbnail, counts, sizes, downloads). */
export function indexPage(title: string, scenes: readonly SceneInfo[]): string {
  const cards = scenes.map((s) => {
    const href = escapeHtml(fileUrl(s.name));
    const thumb = s.thumbnail
      ? `<a class="thumb" href="${href}"><img src="${escapeHtml(fileUrl(s.name, s.thumbnail))}" alt="${escapeHtml(s.name)}" loading="lazy"></a>`
      : `<a class="thumb none" href="${href}">no preview</a>`;
    return `<article class="scene" data-scene="${escapeHtml(s.name)}">
${thumb}
<h2><a class="open" href="${href}">${escapeHtml(s.name)}</a></h2>
<p class="meta">${meta(s)}</p>
<p class="actions"><a class="button" href="${href}">View in 3D</a> <a class="button" href="${escapeHtml(fileUrl(s.name, 'scene.glb'))}" download>Download scene.glb</a></p>
<details><summary>${count(s.files.length, 'file')}</summary>${fileList(s)}</details>
</article>`;
  });
  const empty = `<p class="empty">No scenes here yet. A scene is a folder holding <code>scene.glb</code>: for example <code>da3 auto photos/ --export-format glb-depth_vis --export-dir ${escapeHtml(title)}/my-scene</code>.</p>`;
  return `${head(`${title} — da3js gallery`)}
<body class="index">
<header><h1>da3js gallery</h1><p>${count(scenes.length, 'scene')} in <code>${escapeHtml(title)}</code></p></header>
<main class="grid">
${cards.length ? cards.join('\n') : empty}
</main>
</body>
</html>
`;
}

/** The viewer page of one scene (the script loads `scene.glb` relative to the page). */
export function viewerPage(scene: SceneInfo, viewerBuilt = true): string {
  const figures = scene.depthImages.map((f, i) => {
    const src = escapeHtml(fileUrl(scene.name, f));
    return `<figure><button type="button" class="view" data-view="${i}" title="View from camera ${i}"><img src="${src}" alt="depth of view ${i}" loading="lazy"></button><figcaption>view ${i}</figcaption></figure>`;
  });
  return `${head(`${scene.name} — da3js gallery`)}
<body class="viewer" data-glb="scene.glb" data-state="loading">
<header>
<a class="back" href="/">← scenes</a>
<h1>${escapeHtml(scene.name)}</h1>
<p class="meta">${meta(scene)}</p>
</header>
<main>
<div id="stage"><canvas id="canvas"></canvas><p id="message">${viewerBuilt ? 'Loading scene.glb…' : 'The 3D viewer is not built (npm run build -w @da3js/node); the files are listed beside.'}</p></div>
<aside>
<section id="controls">
<label>Point size <input id="point-size" type="range" min="0.5" max="10" step="0.5" value="2"> <output id="point-size-value" for="point-size">2</output> px</label>
<button type="button" id="fit">Fit view</button>
<label>View from <select id="camera-select"><option value="">free orbit</option></select></label>
<label><input id="show-cameras" type="checkbox" checked> camera frustums</label>
<p id="stats"></p>
</section>
<section id="views"><h2>Depth</h2>${figures.length ? figures.join('') : '<p>No depth images (export with <code>depth_vis</code>).</p>'}</section>
<section id="downloads"><h2>Files</h2>${fileList(scene)}</section>
</aside>
</main>
<script type="module" src="${ASSET_PREFIX}viewer.js"></script>
</body>
</html>
`;
}
