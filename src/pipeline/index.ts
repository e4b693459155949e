export { denoise, DenoiseAbortedError, DenoiseModelOutputError } from './denoise.js';
export type { DenoiseOptions, DenoiseProgress, SeededNoise } from './denoise.js';
export { readLatentNpy, writeLatentNpy, LatentFileError } from './latent-file.js';
export type { Latent, TextContext, VelocityModel, StepInfo, GuidanceBranch } from './types.js';
