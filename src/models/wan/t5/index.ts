export { relativeBucketMatrix, relativePositionBucket } from './buckets.js';
export { inferT5Config, T5ConfigError, t5Keys, UMT5_XXL, type T5EncoderConfig } from './config.js';
export { convertT5Encoder, convertT5EncoderFile, T5_FILES, type ConvertT5Options, type T5ModelManifest } from './convert.js';
export { buildT5EncoderGraph, T5_INPUTS, T5_OUTPUT, type T5GraphOptions, type T5WeightLoader } from './graph.js';
export { loadT5Encoder, T5EncoderSession, type T5Encoder } from './session.js';
export { LayeredT5Encoder, buildT5LayerGraph } from './layered.js';
export { StreamingWeightWriter } from './streaming-weights.js';
export { inlineT5Loader } from './weights.js';
