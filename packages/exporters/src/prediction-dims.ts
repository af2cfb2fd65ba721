import { Da3Error, type Prediction } from '@da3js/core';

/**
 * Checks that a prediction's `views`, `height` and `width` are positive integers, as every writer
 * needs before sizing its arrays. A 0 throws `zeroCode` (writers of one view's image say
 * `EMPTY_INPUT`; the whole-prediction writers treat it as a bad shape).
 * @throws Da3Error `BAD_SHAPE`, or `zeroCode` for a 0 dimension
 */
export function checkPredictionDims(where: string, prediction: Prediction, zeroCode: 'BAD_SHAPE' | 'EMPTY_INPUT' = 'BAD_SHAPE'): void {
  const { views, height, width } = prediction;
  for (const [k, v] of [
    ['views', views],
    ['height', height],
    ['width', width],
  ] as const) {
    if (v === 0 && zeroCode === 'EMPTY_INPUT') throw new Da3Error('EMPTY_INPUT', `${where}: prediction.${k} is 0`);
    if (!Number.isSafeInteger(v) || v < 1) throw new Da3Error('BAD_SHAPE', `${where}: prediction.${k} must be a positive integer, got ${v}`);
  }
}
