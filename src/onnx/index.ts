export * from './builder.js';
export * from './external.js';
export * from './half.js';
