/** The command tree. Each command lives in its own file and only turns flags into a library call. */
import { Command } from 'commander';
import { batchCommand } from './commands/batch.js';
import { compareCommand } from './commands/compare.js';
import { convertCommand } from './commands/convert.js';
import { decodeCommand } from './commands/decode.js';
import { enqueueCommand } from './commands/enqueue.js';
import { evalCommand } from './commands/eval.js';
import { generateCommand } from './commands/generate.js';
import { infoCommand } from './commands/info.js';
import { scheduleCommand } from './commands/schedule.js';
import { workerCommand } from './commands/worker.js';
import type { CliContext } from './context.js';

export const VERSION = '0.1.0';

export function createProgram(ctx: CliContext): Command {
  const program = new Command('diffsparse')
    .description('text-to-video for Wan2.1-class diffusion transformers, accelerated by learned token sparsity')
    .version(VERSION)
    .option('--debug', 'show stack traces for errors');
  for (const command of [generateCommand, decodeCommand, batchCommand, enqueueCommand, workerCommand, convertCommand, evalCommand, compareCommand, scheduleCommand, infoCommand]) {
    program.addCommand(command(ctx));
  }
  program.addHelpText(
    'after',
    `
Exit codes:
  0    success
  1    runtime failure (a job failed, Redis unreachable, bad model folder, quality gate missed, ...)
  2    usage error (unknown flag, bad flag value, missing argument)
  130  interrupted by Ctrl-C; 143 stopped by SIGTERM (no half-written outputs are left)

Examples:
  $ diffsparse generate "a red fox running through snow" -o fox.mp4
  $ diffsparse batch jobs.jsonl -o renders
  $ diffsparse enqueue jobs.jsonl --queue renders && diffsparse worker --queue renders
  $ diffsparse convert ~/models/Wan2.1-T2V-1.3B models/wan21-1.3b
  $ diffsparse compare --prompt "a red fox" --budget 0.5 --min-psnr 25 -o cmp
  $ diffsparse info schedule.json`,
  );
  // Commands made with `new Command()` do not inherit these settings: apply them down the tree.
  const configure = (command: Command): void => {
    command
      .showHelpAfterError('(run with --help for usage)')
      .configureOutput({ writeOut: (s) => void ctx.stdout.write(s), writeErr: (s) => void ctx.stderr.write(s) })
      .exitOverride();
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}
