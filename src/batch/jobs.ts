/**
 * Jobs files: JSONL, one generate request per line.
 *
 *   {"defaults": {"steps": 20, "frames": 17}}      optional first line: values for every job
 *   {"prompt": "a red fox running through snow", "seed": 7}
 *   "a lighthouse at dusk"                          a bare string is a prompt
 *
 * Blank lines and lines starting with `#` are ignored. Every bad line is reported with its
 * 1-based line number and what is wrong with it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { jobOutputProblem } from '../io/safe-output.js';
import { JobFileError } from './errors.js';
import { jobRequestProblems, requestFieldProblems, type JobRequest } from './request.js';
import { jsonErrorMessage, MAX_JSON_INPUT_BYTES, refuseSpecialFile } from '../io/input-file.js';

export interface JobLine {
  /** 0-based position among the jobs (comments, blanks and the defaults line not counted). */
  index: number;
  /** 1-based line number in the jobs file. */
  line: number;
  /** The job's request with the defaults applied. */
  request: JobRequest;
}

export interface JobsFile {
  file: string;
  /** SHA-256 of the file's bytes, so a resumed run can tell the file has not changed. */
  sha256: string;
  jobs: JobLine[];
}

export interface ParseJobsOptions {
  /** Values for every job given outside the file (e.g. `--defaults`); the file's lines override them. */
  defaults?: Record<string, unknown>;
}

/** How many bad lines one error message lists before summarising the rest. */
const MAX_REPORTED_LINES = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJsonError(err: unknown): string {
  // Without the excerpt V8 quotes: a jobs file can be any file, and the message can reach Redis.
  return `not valid JSON: ${jsonErrorMessage(err)}`;
}

/** Parse jobs-file text. `file` is only used in messages. Throws JobFileError listing the bad lines. */
export function parseJobs(text: string, file: string, options: ParseJobsOptions = {}): JobsFile {
  const problems: { line: number; text: string }[] = [];
  const cliDefaults = options.defaults ?? {};
  const cliProblems = requestFieldProblems(cliDefaults);
  if (cliProblems.length > 0) {
    throw new JobFileError(file, [0], `--defaults: ${cliProblems.join('; ')}`);
  }
  let fileDefaults: Record<string, unknown> = {};
  const jobs: JobLine[] = [];
  let sawContent = false;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      problems.push({ line: lineNo, text: describeJsonError(err) });
      sawContent = true;
      return;
    }
    const first = !sawContent;
    sawContent = true;
    if (isPlainObject(value) && 'defaults' in value) {
      if (!first) return problems.push({ line: lineNo, text: 'a "defaults" line must be the first line of the file' });
      if (Object.keys(value).length !== 1 || !isPlainObject(value.defaults)) {
        return problems.push({ line: lineNo, text: 'the defaults line must look like {"defaults": {...}} and hold nothing else' });
      }
      const defaultProblems = requestFieldProblems(value.defaults);
      if (defaultProblems.length > 0) return problems.push({ line: lineNo, text: defaultProblems.join('; ') });
      fileDefaults = value.defaults;
      return;
    }
    const fields = typeof value === 'string' ? { prompt: value } : value;
    if (!isPlainObject(fields)) {
      return problems.push({ line: lineNo, text: 'each line must be a JSON object (a generate request) or a prompt string' });
    }
    const merged: Record<string, unknown> = { ...fileDefaults, ...cliDefaults, ...fields };
    // A job naming its own schedule or budget replaces the default's choice, never adds to it.
    if ('schedule' in fields && !('budget' in fields)) delete merged.budget;
    if ('budget' in fields && !('schedule' in fields)) delete merged.schedule;
    const lineProblems = jobRequestProblems(merged);
    // A job's output is a path inside the output folder: never absolute, never through "..".
    const outputProblem = typeof merged.output === 'string' ? jobOutputProblem(merged.output) : undefined;
    if (outputProblem) lineProblems.push(`"output" ${outputProblem} (got ${JSON.stringify(merged.output)})`);
    if (lineProblems.length > 0) return problems.push({ line: lineNo, text: lineProblems.join('; ') });
    jobs.push({ index: jobs.length, line: lineNo, request: merged as unknown as JobRequest });
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED_LINES).map((p) => `${file}:${p.line}: ${p.text}`);
    if (problems.length > MAX_REPORTED_LINES) shown.push(`... and ${problems.length - MAX_REPORTED_LINES} more bad lines`);
    const head = problems.length === 1 ? '' : `${problems.length} bad lines in the jobs file:\n  `;
    throw new JobFileError(file, problems.map((p) => p.line), head + shown.join('\n  '));
  }
  if (jobs.length === 0) throw new JobFileError(file, [], `${file}: no jobs in the file (expected one JSON request per line)`);
  return { file, sha256: createHash('sha256').update(text).digest('hex'), jobs };
}

/** Read and parse a jobs file; a missing or unreadable file is a JobFileError too. */
export async function loadJobs(file: string, options: ParseJobsOptions = {}): Promise<JobsFile> {
  let text: string;
  try {
    await refuseSpecialFile(file, 'a jobs file', MAX_JSON_INPUT_BYTES); // a FIFO or /dev/zero would read forever
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as Error).name === 'InputFileError') throw new JobFileError(file, [], (err as Error).message);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (err as Error).message;
    throw new JobFileError(file, [], `cannot read jobs file ${file}: ${why}`);
  }
  return parseJobs(text, file, options);
}
