/** `diffsparse worker`: render jobs from a Redis queue until stopped. */
import { Command } from 'commander';
import type { WorkerEvent } from '../../batch/distributed.js';
import { DEFAULT_REDIS_URL } from '../../batch/redis-url.js';
import { printJson, type CliContext } from '../context.js';
import { addRunnerOptions, runnerFrom, type RunnerFlags } from '../options.js';
import { boundedInt, MAX_THREADS, positiveInt } from '../parse.js';
import { ProgressReporter } from '../progress.js';
import { AbortedError } from '../../core/errors.js';

interface WorkerFlags extends RunnerFlags {
  redis: string;
  queue: string;
  outDir?: string;
  concurrency: number;
  lockMs: number;
  json?: boolean;
}

export function workerCommand(ctx: CliContext): Command {
  const command = new Command('worker')
    .description('render jobs from a Redis queue (BullMQ) until Ctrl-C or SIGTERM')
    .option('--redis <url>', 'Redis URL', DEFAULT_REDIS_URL)
    .option('--queue <name>', 'queue name', 'diffsparse')
    .option('-o, --out-dir <folder>', 'write outputs here instead of the folder given at enqueue time')
    .option('--concurrency <n>', 'jobs rendered at once (each loads its own model; at most the number of CPUs)', boundedInt(MAX_THREADS, 'the CPUs on this machine'), 1)
    .option('--lock-ms <ms>', 'job lock time; a worker silent this long is presumed dead and its job redone', positiveInt, 30_000)
    .option('--json', 'print one JSON summary object on stdout when the worker stops');
  addRunnerOptions(command);
  command.addHelpText(
    'after',
    `
The model runs in a worker thread, so job locks keep being renewed during long renders. If a
worker dies, its job is redone by another worker once the lock expires. Ctrl-C puts the job in
progress back on the queue.

Example:
  $ diffsparse worker --redis redis://10.0.0.5:6379 --queue renders --threads 8`,
  );
  command.action(async (flags: WorkerFlags) => {
    const runner = runnerFrom(flags);
    const progress = new ProgressReporter(ctx.stderr);
    const onEvent = (e: WorkerEvent): void => {
      if (e.type === 'progress') return progress.update(e.progress, e.jobId);
      if (e.type === 'ready') progress.line(`worker ${e.worker} waiting for jobs on "${flags.queue}" at ${flags.redis}`);
      if (e.type === 'start') progress.line(`${e.jobId}: started`);
      if (e.type === 'done') progress.line(`${e.jobId}: ${e.reused ? 'already rendered' : 'done'} -> ${e.marker.output}`);
      if (e.type === 'failed') progress.line(`${e.jobId}: failed${e.willRetry ? ' (will retry)' : ''}: ${e.error.message}`);
      if (e.type === 'stalled') progress.line(`${e.jobId}: its worker stopped answering; requeued`);
      if (e.type === 'shutdown-timeout') progress.line(`Redis did not answer within ${e.waitedMs / 1000} s while stopping; the job in progress is redone by another worker once its lock expires`);
    };
    const { runWorker } = await import('../../batch/distributed.js');
    const summary = await runWorker({
      redis: flags.redis, queue: flags.queue, runner, concurrency: flags.concurrency, lockDurationMs: flags.lockMs,
      stalledIntervalMs: Math.max(1000, Math.floor(flags.lockMs / 2)), signal: ctx.signal, onEvent,
      ...(flags.outDir ? { outDir: flags.outDir } : {}),
    });
    progress.endBar();
    const stopped = `worker ${summary.worker} stopped: ${summary.done} done, ${summary.failed} failed`;
    // A worker only stops on Ctrl-C or SIGTERM: exit 130/143 like every other command (issue 18).
    if (ctx.signal.aborted) throw new AbortedError(`${stopped}; a job in progress went back to the queue`);
    if (flags.json) printJson(ctx, { ok: true, ...summary });
    else ctx.stdout.write(`${stopped}\n`);
  });
  return command;
}
