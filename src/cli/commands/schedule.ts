/** `diffsparse schedule show|draw|resample`: inspect and adapt sparsity schedules. */
import { Command } from 'commander';
import { printJson, type CliContext } from '../context.js';
import { positiveInt } from '../parse.js';

export function scheduleCommand(ctx: CliContext): Command {
  const command = new Command('schedule').description('inspect, draw and resample sparsity schedules');
  command
    .command('show')
    .description('summarise a schedule: model, steps, level counts, FLOPs ratio, provenance')
    .argument('<schedule>', 'schedule JSON file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const { describePath } = await import('../../batch/inspect.js');
      const info = await describePath(file);
      if (flags.json) return printJson(ctx, { ok: true, ...info });
      if (info.kind !== 'schedule') throw new Error(`${file} is not a schedule`);
      const levels = Object.entries(info.levels).map(([l, n]) => `${Math.round(Number(l) * 100)}%:${n}`).join(' ');
      ctx.stdout.write(
        `${file}: model ${info.model} (${info.layers} layers), ${info.steps} steps (${info.solver}), ` +
          `FLOPs ${(info.flopsRatio * 100).toFixed(1)}% of dense\n  levels ${levels}\n  ${info.provenance}\n`,
      );
    });
  command
    .command('draw')
    .description('draw a schedule as a PNG heatmap (steps down, layers across)')
    .argument('<schedule>', 'schedule JSON file')
    .requiredOption('-o, --output <png>', 'PNG file to write')
    .action(async (file: string, flags: { output: string }) => {
      const { loadSchedule } = await import('../../sparsity/schedule.js');
      const { drawSchedule } = await import('../../sparsity/scheduleDraw.js');
      await drawSchedule(await loadSchedule(file), flags.output);
      ctx.stdout.write(`wrote ${flags.output}\n`);
    });
  command
    .command('resample')
    .description('adapt a schedule to another number of denoising steps')
    .argument('<schedule>', 'schedule JSON file')
    .requiredOption('--steps <n>', 'new step count', positiveInt)
    .requiredOption('-o, --output <file>', 'schedule JSON to write')
    .action(async (file: string, flags: { steps: number; output: string }) => {
      const { loadSchedule, saveSchedule } = await import('../../sparsity/schedule.js');
      const { resampleSchedule } = await import('../../sparsity/scheduleResample.js');
      await saveSchedule(resampleSchedule(await loadSchedule(file), flags.steps), flags.output);
      ctx.stdout.write(`wrote ${flags.output} (${flags.steps} steps)\n`);
    });
  command.addHelpText(
    'after',
    `
Examples:
  $ diffsparse schedule show schedule.json
  $ diffsparse schedule draw schedule.json -o schedule.png
  $ diffsparse schedule resample schedule.json --steps 30 -o schedule-30steps.json`,
  );
  return command;
}
