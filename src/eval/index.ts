/** VBench-compatible evaluation runs, fidelity metrics, dense-vs-accelerated comparison, reports. */
export {
  psnr, ssim, frameMse, framePsnr, frameSsim, temporalFlickering, latentRelativeL2, gaussianKernel, MetricInputError,
  PSNR_CAP_DB, PSNR_IDENTICAL_MSE, SSIM_C1, SSIM_C2, SSIM_SIGMA, SSIM_WINDOW,
  type Clip, type FrameData, type PsnrResult, type SsimResult, type FlickerResult,
} from '../video/metrics.js';
export {
  DIMENSIONS, QUALITY_DIMENSIONS, SEMANTIC_DIMENSIONS, NORMALIZATION, QUALITY_WEIGHT, SEMANTIC_WEIGHT, SAMPLES_PER_PROMPT,
  FLICKER_SAMPLES_PER_PROMPT, SEED_STRIDE, VBenchError, defaultSuitePath, loadSuite, parseSuite, suitePrompts, isDimension,
  vbenchFileName, promptFromFileName, videoSeed, planJobs, normalizeScore, summarizeScores, scoresFromVBenchResults,
  readVBenchResults, mergeScores,
  type Dimension, type SuiteEntry, type SuitePrompt, type SeedRule, type EvalJob, type PlanOptions, type DimensionScore,
  type DimensionScores, type NormalizedDimension, type Totals, type ScoreSummary, type VBenchResultsFile,
} from './vbench.js';
export { evaluate, EvalPlanMismatchError, VideosFolderError, type EvaluateOptions, type EvalEvent, type EvalResults, type EvalVideo, type RenderSettings, type EvalFormat } from './run.js';
export {
  compare, formatCompareTable, CompareOptionsError,
  type CompareOptions, type CompareVariant, type CompareEvent, type CompareResult, type VariantResult, type VideoComparison, type QualityGate,
} from './compare.js';
export { renderReportHtml, writeReport, scatterSvg, type ReportInput } from './report.js';
export { checkReportInChromium, findChromium, countColourPixels, pageErrorLines, ChromiumMissingError, type ReportCheck } from './browser-check.js';
export { withRenderer, type RendererChoice } from './renderer.js';
export { writeBaselineVariant, BASELINE_METHODS, BaselineMethodError, type BaselineMethod, type BaselineVariantOptions } from './baseline-variant.js';
