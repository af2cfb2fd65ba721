// The tiny-giant fixture's Gaussians and cameras (fixtures/tiny-giant/multi) as plain typed
// arrays, for the Gaussian bench tasks (gs-webgpu-frames.mjs's tinyGiantScene / fixtureCamera
// turn them into core Gaussians and RenderCameras). Rotations are stored wxyz there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, memoryByteSource } from '@da3js/core';

/** Reads `<fixtures>/tiny-giant/multi` (DA3_FIXTURES, else `<repo>/fixtures`). */
export async function loadTinyGiant(repo) {
  const root = process.env.DA3_FIXTURES ?? join(repo, 'fixtures');
  const dir = join(root, 'tiny-giant', 'multi');
  const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const st = await SafetensorsFile.open(memoryByteSource(new Uint8Array(readFileSync(join(dir, 'outputs.safetensors')))));
  const get = async (key) => st.read(st.names().includes(key) ? key : meta.outputs[key].same_values_as);
  const [, height, width] = meta.outputs['pred.depth'].shape;
  return {
    width,
    height,
    means: await get('out.gaussians.means'),
    scales: await get('out.gaussians.scales'),
    rotations: await get('out.gaussians.rotations'),
    harmonics: await get('out.gaussians.harmonics'),
    opacities: await get('out.gaussians.opacities'),
    extrinsics: await get('pred.extrinsics'),
    intrinsics: await get('pred.intrinsics'),
  };
}
