/**
 * The batch manifest: one JSON file recording every job's status, seed, output, timings and the
 * size and hash of its finished video. It is rewritten atomically after every change, so after a
 * crash it always describes a consistent state, and `--resume` can trust it.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, type FileDigest } from './atomic.js';
import { ManifestError } from './errors.js';
import type { GenerateRequest } from './types.js';

export const MANIFEST_VERSION = 1;

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

/** Wall-clock spans (epoch milliseconds) of the lanes a job went through. */
export interface JobSpans {
  denoise?: [number, number];
  finish?: [number, number];
  /** Both halves in one lane (unpipelined runs). */
  render?: [number, number];
}

export interface ManifestJob {
  index: number;
  /** Line of the jobs file this job came from. */
  line: number;
  status: JobStatus;
  seed: number;
  /** The request as rendered: seed and final output path filled in. */
  request: GenerateRequest & { seed: number };
  output: string;
  sidecar?: string;
  /** The saved final latent (.npy), when the request asked for it. */
  latent?: string;
  /** Size and hash of the finished video, checked on resume. */
  digest?: FileDigest;
  timings?: Record<string, number>;
  flopsRatio?: number;
  spans?: JobSpans;
  attempts: number;
  error?: string;
  finishedAt?: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  jobsFile: string;
  jobsSha256: string;
  createdAt: string;
  updatedAt: string;
  jobs: ManifestJob[];
}

export async function readManifest(file: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManifestError(`cannot read manifest ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ManifestError(`manifest ${file} is not valid JSON; move it away to start the batch afresh`);
  }
  const m = value as Partial<Manifest>;
  if (m.version !== MANIFEST_VERSION || !Array.isArray(m.jobs) || typeof m.jobsSha256 !== 'string') {
    throw new ManifestError(`${file} is not a diffsparse batch manifest (version ${MANIFEST_VERSION})`);
  }
  return m as Manifest;
}

/** Holds the manifest in memory and persists each change in order, one atomic write at a time. */
export class ManifestStore {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    readonly manifest: Manifest,
  ) {}

  job(index: number): ManifestJob {
    const job = this.manifest.jobs.find((j) => j.index === index);
    if (!job) throw new RangeError(`no job ${index} in the manifest`);
    return job;
  }

  /** Apply `patch` to a job and schedule a write; the returned promise settles once it is on disk. */
  update(index: number, patch: Partial<ManifestJob>): Promise<void> {
    const job = this.job(index);
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete (job as unknown as Record<string, unknown>)[key];
      else (job as unknown as Record<string, unknown>)[key] = value;
    }
    return this.save();
  }

  save(): Promise<void> {
    this.manifest.updatedAt = new Date().toISOString();
    const text = `${JSON.stringify(this.manifest, null, 2)}\n`;
    // A failed write must not block later ones; the caller of that write sees the failure.
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(this.file, text));
    return this.writing;
  }

  flush(): Promise<void> {
    return this.writing;
  }
}
