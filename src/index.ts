/**
 * diffsparse's public API: the generation pipeline first, then each layer underneath it.
 * The CLI (`src/cli/`) is a thin layer over exactly these calls.
 */
export * from './pipeline/index.js';
export { UserError, AbortedError } from './core/errors.js';
export type { Renderer, SolverName } from './core/index.js';
export { convertModel, findReleaseFiles, WAN21_T2V_DEFAULTS } from './convert/model.js';
export { convertCheckpoint, CheckpointError, CheckpointKeyError } from './convert/index.js';
export { WanDiT, DenseDiT } from './models/wan/dit/index.js';
export { TextEncoder, Tokenizer, DEFAULT_NEGATIVE_PROMPT, cleanPrompt } from './text/index.js';
export { renderLatentToVideo } from './video/render.js';
export { encodeChunks, openVideoWriter, DEFAULT_FPS, type VideoFormat } from './video/encode.js';
export { readVideoFrames, probeVideo } from './video/probe.js';
export * as sampling from './sampling/index.js';
export * as sparsity from './sparsity/index.js';
export * as weights from './weights/index.js';
export * as batch from './batch/index.js';
export * as evaluation from './eval/index.js';
export { GraphBuilder } from './onnx/builder.js';
export { saveModelWithExternalData } from './onnx/external.js';
export { readNpy, writeNpy } from './io/npy.js';
