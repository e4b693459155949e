/** The bottom layer: shared types, error base classes and the renderer interface. */
export * from './types.js';
export * from './errors.js';
export * from './json-error.js';
export type * from './renderer.js';
