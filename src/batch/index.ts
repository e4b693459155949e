/** Batch rendering: jobs files, local pipelined batches, the BullMQ queue, and single renders off the main thread. */
export { runBatch, type BatchOptions, type BatchEvent, type BatchSummary } from './local.js';
export {
  enqueueJobs, runWorker, watchJobs, DONE_DIR, JOB_NAME,
  type EnqueueOptions, type EnqueueSummary, type WorkerOptions, type WorkerEvent, type WorkerSummary,
  type WatchOptions, type WatchEvent, type WatchSummary, type RenderJobData, type DoneMarker, type QueueTarget,
} from './distributed.js';
export { renderOne, type RenderOneOptions } from './render-one.js';
export { loadJobs, parseJobs, type JobLine, type JobsFile, type ParseJobsOptions } from './jobs.js';
export { readManifest, type Manifest, type ManifestJob, type JobStatus, type JobSpans } from './manifest.js';
export { jobOutputName, slugify, isPortableFileName, MAX_NAME_BYTES } from './naming.js';
export { requestFieldProblems, jobRequestProblems, randomSeed, type JobRequest } from './request.js';
export { Lane } from './lane.js';
export { defaultRunnerSpec } from './runner-module.js';
export { DEFAULT_REDIS_URL } from './redis-url.js';
export {
  UserError, JobFileError, ManifestError, OutputDirError, RedisUnreachableError, RunnerLoadError, AbortedError,
  RemoteError, isUserFacingError, isAbortError,
} from './errors.js';
export type { BatchRunner, Renderer, RunnerSpec } from './types.js';
