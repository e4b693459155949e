export * from './common.js';
export * from './stages.js';
export * from './embeddings.js';
export * from './attention.js';
export * from './block.js';
export * from './head.js';
export * from './build.js';
