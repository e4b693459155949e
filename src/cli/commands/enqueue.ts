/** `diffsparse enqueue JOBS.jsonl`: put a jobs file on a BullMQ queue for `diffsparse worker`s. */
import { Command, Option } from 'commander';
import { DEFAULT_REDIS_URL } from '../../batch/redis-url.js';
import { FORMATS, type OutputFormat } from '../../batch/types.js';
import { printJson, type CliContext } from '../context.js';
import { EXIT } from '../errors.js';
import { ProgressReporter } from '../progress.js';
import { boundedInt, jsonObject, positiveInt } from '../parse.js';

interface EnqueueFlags {
  redis: string;
  queue: string;
  outDir: string;
  defaults?: Record<string, unknown>;
  format?: OutputFormat;
  attempts: number;
  backoffMs: number;
  wait?: boolean;
  json?: boolean;
  overwrite?: boolean;
}

export function enqueueCommand(ctx: CliContext): Command {
  return new Command('enqueue')
    .description('add every request of a jobs file to a Redis queue (BullMQ) for workers on any machine')
    .argument('<jobs>', 'jobs file (same format as `diffsparse batch`)')
    .option('--redis <url>', 'Redis URL', DEFAULT_REDIS_URL)
    .option('--queue <name>', 'queue name', 'diffsparse')
    .option('-o, --out-dir <folder>', 'output folder, a path every worker can write (shared storage)', 'renders')
    .option('--defaults <json|file>', 'request fields for every job', jsonObject)
    .addOption(new Option('--format <fmt>', 'container for jobs that do not set one').choices(FORMATS))
    .option('--attempts <n>', 'tries per job before it is marked failed', boundedInt(100, 'retrying more never helps'), 3)
    .option('--backoff-ms <ms>', 'first retry delay; doubles on each later retry', positiveInt, 10_000)
    .option('--overwrite', 'let jobs replace files already at their output paths')
    .option('--wait', "follow the jobs' progress until every one has finished (exit 1 if any failed)")
    .option('--json', 'print one JSON summary object on stdout')
    .addHelpText(
      'after',
      `
Seeds are fixed and output names chosen at enqueue time; the job id is the output name, so
enqueueing the same file twice adds nothing.

Examples:
  $ diffsparse enqueue jobs.jsonl --redis redis://127.0.0.1:6379 --queue renders -o /mnt/shared/renders
  $ diffsparse worker --redis redis://127.0.0.1:6379 --queue renders       # on each machine`,
    )
    .action(async (jobsFile: string, flags: EnqueueFlags) => {
      const { enqueueJobs, watchJobs } = await import('../../batch/distributed.js');
      const summary = await enqueueJobs({
        jobsFile, redis: flags.redis, queue: flags.queue, outDir: flags.outDir, attempts: flags.attempts, backoffMs: flags.backoffMs,
        ...(flags.defaults ? { defaults: flags.defaults } : {}),
        ...(flags.format ? { format: flags.format } : {}),
        ...(flags.overwrite ? { overwrite: true } : {}),
      });
      const progress = new ProgressReporter(ctx.stderr);
      if (!flags.json) {
        for (const job of summary.jobs) progress.line(`line ${job.line}: ${job.id} (seed ${job.seed})`);
        ctx.stdout.write(`queued ${summary.added} job(s) on "${summary.queue}"${summary.alreadyQueued ? `; ${summary.alreadyQueued} were already queued` : ''}\n`);
      }
      if (!flags.wait) {
        if (flags.json) printJson(ctx, { ok: true, ...summary });
        return;
      }
      const watched = await watchJobs({
        redis: flags.redis, queue: flags.queue, jobIds: summary.jobs.map((j) => j.id), signal: ctx.signal,
        onEvent: (e) => {
          if (e.type === 'progress') progress.update(e.progress, e.jobId);
          else if (e.type === 'completed') progress.line(`${e.jobId}: done by ${e.marker.worker} -> ${e.marker.output}`);
          else progress.line(`${e.jobId}: FAILED: ${e.reason}`);
        },
      });
      progress.endBar();
      if (watched.failed.length > 0) ctx.exitCode = EXIT.failure;
      if (flags.json) printJson(ctx, { ok: watched.failed.length === 0, ...summary, completed: watched.completed.length, failed: watched.failed });
      else ctx.stdout.write(`${watched.completed.length} done, ${watched.failed.length} failed\n`);
    });
}
