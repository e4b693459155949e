export * from './builder.js';
export * from './external.js';
export * from '../core/half.js';
