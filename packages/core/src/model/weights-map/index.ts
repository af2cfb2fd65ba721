/**
 * The checkpoint key map of DA3: which tensors a `model.safetensors` of a given configuration
 * holds ({@link expectedTensors}), validation of a file against it ({@link validateCheckpoint}),
 * and seeded random-weight checkpoints with the official key names ({@link makeRandomCheckpoint}).
 */
export * from './expected-tensors.js';
export * from './random-model.js';
export * from './validate-checkpoint.js';
