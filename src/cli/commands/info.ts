/** `diffsparse info PATH`: what a model folder, schedule, batch manifest or jobs file holds. */
import { Command } from 'commander';
import { printJson, type CliContext } from '../context.js';

export function infoCommand(ctx: CliContext): Command {
  return new Command('info')
    .description('describe a converted model folder or built-in pipeline (parts, defaults, trained sizes, schedules, memory), a sparsity schedule, a batch manifest or a jobs file')
    .argument('<path>', 'folder, file or built-in pipeline name')
    .option('--json', 'print the description as JSON')
    .addHelpText('after', `
Examples:
  $ diffsparse info wan-demo
  $ diffsparse info models/wan21-1.3b
  $ diffsparse info schedule.json
  $ diffsparse info renders/manifest.json`)
    .action(async (target: string, flags: { json?: boolean }) => {
      const { describePath } = await import('../../batch/inspect.js');
      const { pipelineInfoLines } = await import('../../batch/describe-pipeline.js');
      const info = await describePath(target);
      // Memory and time at the pipeline's defaults (issue 17), for a folder a pipeline resolves from.
      const estimate = info.kind === 'model-folder' ? await (await import('./info-estimate.js')).infoEstimate(target) : null;
      if (flags.json) return printJson(ctx, { ok: true, ...info, ...(estimate && { estimate }) });
      const lines: string[] = [`${info.path}: ${info.kind}`];
      if (info.kind === 'model-folder') {
        if (info.pipeline) lines.push(...pipelineInfoLines(info.pipeline));
        else for (const c of info.components) {
          lines.push(`  ${c.folder === '.' ? '' : `${c.folder}/ `}${c.format}`);
          for (const [k, v] of Object.entries(c.details)) lines.push(`    ${k}: ${v}`);
        }
        if (estimate) lines.push(`  at the defaults (${estimate.setting.width}x${estimate.setting.height}, ${estimate.setting.frames} frames, ${estimate.setting.steps} steps):`, ...estimate.lines.map((l) => `    ${l}`));
      } else if (info.kind === 'schedule') {
        lines.push(`  model ${info.model}, ${info.layers} layers, ${info.steps} steps (${info.solver}), FLOPs ${(info.flopsRatio * 100).toFixed(1)}% of dense`);
        lines.push(`  levels ${Object.entries(info.levels).map(([l, n]) => `${Math.round(Number(l) * 100)}%:${n}`).join(' ')}`);
        lines.push(`  ${info.provenance}`);
      } else if (info.kind === 'batch-manifest') {
        lines.push(`  ${info.total} jobs from ${info.jobsFile}: ${Object.entries(info.byStatus).map(([s, n]) => `${n} ${s}`).join(', ')}`);
      } else {
        lines.push(`  ${info.jobs} jobs; first: ${info.firstPrompts.map((p) => JSON.stringify(p)).join(', ')}`);
      }
      ctx.stdout.write(`${lines.join('\n')}\n`);
    });
}
