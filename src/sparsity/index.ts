/** Learned token sparsity: schedules, the budget solver, the token cache and the sparse executor. */
export * from './errors.js';
export * from './flops.js';
export * from './solver.js';
export * from './schedule.js';
export * from './scheduleResample.js';
export * from './scheduleDraw.js';
export * from './cache.js';
export * from './scores.js';
export * from './attentionScore.js';
export * from './modulation.js';
export * from './executor.js';
export * from './methods/index.js';
export * from './learn.js';
export * from './fidelity.js';
export * from './modelInfo.js';
export * from './cost-table-file.js';
