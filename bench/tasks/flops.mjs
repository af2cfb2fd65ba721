// The work of one DA3 any-view (DualDPT) network call, counted as perf-baseline.md counts the
// reference's: multiply-add = 2 FLOP over Linear, Conv2d, ConvTranspose2d and the two attention
// matmuls (q·kᵀ, p·v); element-wise ops, norms, softmax and interpolation are not counted. The
// auxiliary head levels 0..L−2, which the reference computes and drops, are left out (the graph
// does not build them): DA3-SMALL 1×504×336 = 82.40 GFLOP (85.74 in the reference, 3.34 dropped).
// Weight shapes come from core's `netTensors`, so the count follows the config.
import { netTensors } from '@da3js/core';

/**
 * GFLOP of one network call on `views` images of `height`×`width` pixels (multiples of 14).
 * @param {import('@da3js/core').NetConfig} net `VARIANTS[id].config` of an any-view model
 * @param {{ rays?: boolean }} [options] `rays: false` leaves out the ray branch (graphs built
 *   without it: 17.22 of the 82.39 GFLOP of DA3-SMALL 1×504×336)
 */
export function networkGflop(net, views, height, width, options = {}) {
  if (net.head?.type !== 'DualDPT') throw new Error(`flops: only DualDPT (any-view) configs are counted, got ${net.head?.type}`);
  const numel = new Map(netTensors(net).map((t) => [t.name, t.shape.reduce((a, b) => a * b, 1)]));
  const W = (name) => {
    const n = numel.get(`${name}.weight`);
    if (n === undefined) throw new Error(`flops: no tensor ${name}.weight in the config's checkpoint layout`);
    return n;
  };
  const b = net.backbone;
  const h = height / b.patchSize;
  const w = width / b.patchSize;
  const T = 1 + b.numRegisterTokens + h * w; // tokens per view (cls/camera + registers + patches)
  let flops = 2 * W('backbone.pretrained.patch_embed.proj') * h * w * views;
  for (let i = 0; i < b.depth; i++) {
    for (const [name, n] of numel) {
      if (name.startsWith(`backbone.pretrained.blocks.${i}.`) && /\.(attn\.(qkv|proj)|mlp\.(fc1|fc2|w12|w3))\.weight$/.test(name)) flops += 2 * n * T * views;
    }
    const global = b.globalAttentionLayers.includes(i) && views > 1;
    flops += global ? 4 * (views * T) ** 2 * b.embedDim : 4 * T * T * b.embedDim * views;
  }
  // Camera decoder: one token per view.
  for (const [name, n] of numel) if (name.startsWith('cam_dec.') && name.endsWith('.weight') && n > 1 && !/\.norm/.test(name)) flops += 2 * n * views;
  // DualDPT head. Level sizes: s0 = 4h×4w, s1 = 2h×2w, s2 = h×w, s3 = ⌈h/2⌉×⌈w/2⌉; the fused map is 8h×8w.
  const cfg = net.head;
  const s = [16 * h * w, 4 * h * w, h * w, Math.ceil(h / 2) * Math.ceil(w / 2)];
  const fused = 64 * h * w;
  const out = height * width;
  const conv = (name, pixels) => 2 * W(name) * pixels;
  let head = 0;
  for (let i = 0; i < 4; i++) head += conv(`head.projects.${i}`, h * w);
  head += conv('head.resize_layers.0', h * w) + conv('head.resize_layers.1', h * w) + conv('head.resize_layers.3', s[3]);
  for (let i = 0; i < 4; i++) head += conv(`head.scratch.layer${i + 1}_rn`, s[i]);
  const outSize = [fused, s[0], s[1], s[2]]; // out_conv of refinenet1..4 runs after the resize
  const rays = options.rays !== false;
  for (const suffix of rays ? ['', '_aux'] : ['']) {
    for (let k = 1; k <= 4; k++) {
      const key = `head.scratch.refinenet${k}${suffix}`;
      for (const unit of k === 4 ? ['resConfUnit2'] : ['resConfUnit1', 'resConfUnit2']) head += conv(`${key}.${unit}.conv1`, s[k - 1]) + conv(`${key}.${unit}.conv2`, s[k - 1]);
      head += conv(`${key}.out_conv`, outSize[k - 1]);
    }
  }
  head += conv('head.scratch.output_conv1', fused) + conv('head.scratch.output_conv2.0', out) + conv('head.scratch.output_conv2.2', out);
  const level = cfg.auxLevels - 1;
  if (rays) {
    for (let j = 0; j < cfg.auxOut1ConvNum; j++) head += conv(`head.scratch.output_conv1_aux.${level}.${j}`, fused);
    head += conv(`head.scratch.output_conv2_aux.${level}.0`, fused) + conv(`head.scratch.output_conv2_aux.${level}.5`, fused);
  }
  flops += head * views;
  return flops / 1e9;
}
