/**
 * `generate`'s checks before any model work (issue 17): the request against the pipeline's
 * manifests and schedules (pipeline/preflight.ts), then the estimate of memory and time —
 * printed in full by `--dry-run`, and as a short note before a generation estimated to take
 * more than a minute. Kept apart from generate.ts so the CLI items of other issues merge.
 */
import type { GenerateRequest } from '../../batch/types.js';
import { printJson, type CliContext } from '../context.js';
import type { ProgressReporter } from '../progress.js';

/** Below this estimate (at an assumed 100 GFLOP/s) a run starts without measuring or printing anything. */
const LONG_RUN_SECONDS = 60;
const ASSUMED_GFLOPS = 100;

/** Runs the preflight; returns true when the command is done (a dry run). */
export async function checkBeforeRun(ctx: CliContext, progress: ProgressReporter, pipeline: string | undefined, request: GenerateRequest, o: { threads?: number; dryRun: boolean; json: boolean; lowMemory?: boolean }): Promise<boolean> {
  const { preflight } = await import('../../pipeline/preflight.js');
  const { describeEstimate, formatBytes } = await import('../../pipeline/estimate.js');
  const { availableMemory, chooseLowMemory } = await import('../../pipeline/memory.js');
  const rough = await preflight(pipeline, request, { gflops: ASSUMED_GFLOPS });
  const long = (rough.estimate.seconds?.total ?? 0) > LONG_RUN_SECONDS;
  if (!o.dryRun && !long) return false;
  const { matmulSpeed } = await import('../../pipeline/matmul-speed.js');
  const speed = await matmulSpeed(o.threads ?? 2);
  const checked = await preflight(pipeline, request, { gflops: speed.gflops });
  const e = checked.estimate;
  const r = checked.request;
  const available = availableMemory();
  const sizes = checked.pipeline.sizes;
  const mode = chooseLowMemory(checked.pipeline.dit.source.parameters, sizes.t5Layered ? 0 : e.memory.parts.t5Weights, o.lowMemory, available);
  const memoryNote = e.memory.standardBytes > available
    ? `this machine has ${formatBytes(available)} available: the standard mode needs ${formatBytes(e.memory.standardBytes)}${e.memory.lowMemoryBytes <= available ? ', the low-memory mode fits' : `, and even the low-memory mode (${formatBytes(e.memory.lowMemoryBytes)}) does not fit; choose a smaller --size or --frames`}`
    : undefined;
  if (o.dryRun && o.json) {
    printJson(ctx, {
      ok: true, dryRun: true, pipeline: checked.pipeline.definition.name, request: r, latentShape: checked.latentShape,
      flopsRatio: checked.flopsRatio, sparsity: checked.sparsity ?? null, schedule: checked.schedule ?? null, warnings: checked.warnings,
      estimate: e, matmul: speed, availableMemoryBytes: available, lowMemory: mode,
    });
    return true;
  }
  const label = request.budget !== undefined ? `--budget ${request.budget}${request.method ? ` (${request.method})` : ''}` : request.schedule !== undefined ? `schedule ${request.schedule}` : (request.method ?? 'the sparsity plan');
  const lines = describeEstimate(e, r, label);
  lines.push(`DiT mode: ${mode.lowMemory ? 'low-memory (blocks loaded for their turn)' : 'standard (every block loaded)'}: ${mode.reason}; the text encoder ${sizes.t5Layered ? 'runs layer by layer from its checkpoint' : 'is one graph held whole'}`);
  if (memoryNote) lines.push(`note: ${memoryNote}`);
  if (o.dryRun) {
    const out = [`${checked.pipeline.definition.name}: "${r.prompt}" seed ${request.seed} -> ${r.output}${checked.sparsity ? ` (${checked.sparsity}${checked.schedule ? `, ${checked.schedule}` : ''})` : ' (dense)'}`, ...lines.map((l) => `  ${l}`)];
    for (const w of checked.warnings) out.push(`  warning: ${w}`);
    out.push('  dry run: nothing was loaded or rendered');
    ctx.stdout.write(`${out.join('\n')}\n`);
    return true;
  }
  for (const l of lines) progress.line(`estimate: ${l}`);
  return false;
}
