/** Feature visualisation (`feat_vis`): PCA → RGB of exported backbone features, `[RGB | PCA]` images. */
export { type FeaturePca, type FeaturePcaOptions, featureMaps, featurePca } from './pca.js';
export { type FeatVisOptions, renderFeatVis, upsampleNearest, writeFeatVisJpeg, writeFeatVisPng } from './feat-vis.js';
