export { convertCheckpoint, DIT_CONVERTER, type ConvertOptions } from './dit.js';
export { CheckpointError, CheckpointKeyError } from './errors.js';
