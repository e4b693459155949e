/** `diffsparse batch JOBS.jsonl`: render a jobs file on this machine, resumably. */
import path from 'node:path';
import { Command, Option } from 'commander';
import type { BatchEvent } from '../../batch/local.js';
import { FORMATS, type OutputFormat } from '../../batch/types.js';
import { printJson, type CliContext } from '../context.js';
import { EXIT } from '../errors.js';
import { addRunnerOptions, runnerFrom, type RunnerFlags } from '../options.js';
import { jsonObject } from '../parse.js';
import { formatDuration, ProgressReporter } from '../progress.js';

interface BatchFlags extends RunnerFlags {
  outDir: string;
  defaults?: Record<string, unknown>;
  resume?: boolean;
  pipeline?: string;
  overlap: boolean;
  format?: OutputFormat;
  saveLatent?: boolean;
  json?: boolean;
  overwrite?: boolean;
}

export function batchCommand(ctx: CliContext): Command {
  const command = new Command('batch')
    .description('render every request in a JSONL jobs file, with a manifest for --resume')
    .argument('<jobs>', 'jobs file: one JSON generate request per line (optional first line {"defaults": {...}})')
    .option('-o, --out-dir <folder>', 'folder for the videos and manifest.json', 'renders')
    .option('--defaults <json|file>', 'request fields for every job (the lines override them)', jsonObject)
    .option('--resume', 'continue the batch in --out-dir: keep finished jobs, redo the rest')
    .option('--no-overlap', "denoise and decode one job at a time instead of overlapping the next job's denoising")
    .addOption(new Option('--format <fmt>', 'container for jobs that do not set one').choices(FORMATS).default('mp4'))
    .option('--save-latent', 'also save each final latent (.npy)')
    .option('--overwrite', 'let a new batch replace files already at its output paths')
    .option('--json', 'print one JSON summary object on stdout');
  addRunnerOptions(command);
  command.addHelpText(
    'after',
    `
Jobs file (JSONL):
  {"defaults": {"steps": 30, "frames": 33, "width": 832, "height": 480}}
  {"prompt": "a red fox running through snow", "seed": 7}
  "a lighthouse at dusk"

Outputs are named <index>-<prompt-slug>-s<seed>.<format>, or a job's "output": a path inside
--out-dir (absolute paths and ".." are refused). Existing files are not replaced unless
--overwrite is given. manifest.json records each job's
status, seed, timings and output. After a crash or Ctrl-C, run the same command with --resume.

Examples:
  $ diffsparse batch jobs.jsonl -o renders
  $ diffsparse batch jobs.jsonl -o renders --resume
  $ diffsparse batch prompts.jsonl -o out --defaults '{"steps": 20, "budget": 0.5}' --json`,
  );
  command.action(async (jobsFile: string, flags: BatchFlags) => {
    const runner = runnerFrom(flags);
    const progress = new ProgressReporter(ctx.stderr);
    let total = 0;
    const label = (e: BatchEvent & { job: { index: number } }): string => `[${e.job.index + 1}${total ? `/${total}` : ''}]`;
    const onEvent = (e: BatchEvent): void => {
      if (e.type === 'plan') {
        total = e.total;
        return progress.line(`${e.todo} of ${e.total} job(s) to render`);
      }
      const name = 'job' in e ? path.basename(e.job.output) : '';
      if (e.type === 'progress') return progress.update(e.progress, label(e));
      if (e.type === 'skip') progress.line(`${label(e)} ${name}: already done`);
      if (e.type === 'redo') progress.line(`${label(e)} ${name}: redoing (${e.reason})`);
      if (e.type === 'done') progress.line(`${label(e)} ${name}: done (seed ${e.job.seed})`);
      if (e.type === 'failed') progress.line(`${label(e)} ${name}: FAILED: ${e.error.message}`);
    };
    const defaults = { ...flags.defaults, ...(flags.saveLatent ? { saveLatent: true } : {}) };
    const { runBatch } = await import('../../batch/local.js');
    const summary = await runBatch({
      jobsFile, outDir: flags.outDir, runner, onEvent, signal: ctx.signal,
      ...(Object.keys(defaults).length > 0 ? { defaults } : {}),
      ...(flags.resume ? { resume: true } : {}),
      ...(flags.overwrite ? { overwrite: true } : {}),
      pipelined: flags.overlap,
      ...(flags.format ? { format: flags.format } : {}),
    });
    progress.endBar();
    if (summary.failed > 0) ctx.exitCode = EXIT.failure;
    if (flags.json) {
      printJson(ctx, {
        ok: summary.failed === 0, manifest: summary.manifest, total: summary.total, done: summary.done, failed: summary.failed,
        skipped: summary.skipped, wallMs: summary.wallMs,
        jobs: summary.jobs.map((j) => ({ index: j.index, line: j.line, status: j.status, seed: j.seed, output: j.output, ...(j.error ? { error: j.error } : {}) })),
      });
    } else {
      ctx.stdout.write(
        `${summary.done}/${summary.total} done${summary.skipped ? ` (${summary.skipped} from an earlier run)` : ''}, ${summary.failed} failed, ` +
          `${formatDuration(summary.wallMs)}; manifest ${summary.manifest}\n`,
      );
    }
  });
  return command;
}
