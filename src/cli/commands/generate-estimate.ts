/**
 * `generate`'s checks before any model work (issue 17): the request against the pipeline's
 * manifests and schedules (pipeline/preflight.ts), then the estimate of memory and time —
 * printed in full by `--dry-run`, and as a short note before a generation estimated to take
 * more than a minute. Kept apart from generate.ts so the CLI items of other issues merge.
 */
import type { GenerateRequest } from '../../batch/types.js';
import type { GenerationEstimate } from '../../pipeline/estimate.js';
import { printJson, type CliContext } from '../context.js';
import type { ProgressReporter } from '../progress.js';

/** Below this estimate (at an assumed speed and call cost) a run starts without measuring or printing anything. */
const LONG_RUN_SECONDS = 60;
const ASSUMED_SPEED = { gflops: 100, callMs: 0.3, sessionMs: 20 };

/** Runs the preflight; returns true when the command is done (a dry run). */
export async function checkBeforeRun(ctx: CliContext, progress: ProgressReporter, pipeline: string | undefined, request: GenerateRequest, o: { threads?: number; dryRun: boolean; json: boolean; lowMemory?: boolean }): Promise<boolean> {
  const { preflight } = await import('../../pipeline/preflight.js');
  const { describeEstimate, formatBytes } = await import('../../pipeline/estimate.js');
  const { availableMemory, chooseLowMemory, weightsInMemory } = await import('../../pipeline/memory.js');
  const rough = await preflight(pipeline, request, { speed: ASSUMED_SPEED });
  const long = (rough.estimate.seconds?.total ?? 0) > LONG_RUN_SECONDS;
  if (!o.dryRun && !long) return false;
  const { matmulSpeed } = await import('../../pipeline/matmul-speed.js');
  const { callCost, probeShape } = await import('../../pipeline/call-cost.js');
  const speed = await matmulSpeed(o.threads ?? 2);
  const calls = await callCost(o.threads ?? 2, probeShape(rough.estimate.tokens, rough.pipeline.sizes.dit.dim), speed.gflops);
  const checked = await preflight(pipeline, request, { speed: { gflops: speed.gflops, callMs: calls.callMs, sessionMs: calls.sessionMs } });
  const e = checked.estimate;
  const r = checked.request;
  const available = availableMemory();
  const sizes = checked.pipeline.sizes;
  const mode = chooseLowMemory(weightsInMemory(checked.pipeline.dit.config, checked.pipeline.dit.quantized, sizes.t5Layered ? 0 : e.memory.parts.t5Weights, checked.pipeline.dit.storageDtype), o.lowMemory, available);
  const memoryNote = e.memory.standardBytes > available ? memoryAdvice(e, available, sizes.t5Layered === true, formatBytes) : undefined;
  if (o.dryRun && o.json) {
    printJson(ctx, {
      ok: true, dryRun: true, pipeline: checked.pipeline.definition.name, request: r, latentShape: checked.latentShape,
      flopsRatio: checked.flopsRatio, sparsity: checked.sparsity ?? null, schedule: checked.schedule ?? null, warnings: checked.warnings,
      estimate: e, matmul: speed, callCost: calls, availableMemoryBytes: available, lowMemory: mode,
    });
    return true;
  }
  const label = request.budget !== undefined ? `--budget ${request.budget}${request.method ? ` (${request.method})` : ''}` : request.schedule !== undefined ? `schedule ${request.schedule}` : (request.method ?? 'the sparsity plan');
  const lines = describeEstimate(e, r, label, { lowMemory: mode.lowMemory });
  lines.push(`DiT mode: ${mode.lowMemory ? 'low-memory (blocks loaded for their turn)' : 'standard (every block loaded)'}: ${mode.reason}`);
  if (mode.warning) lines.push(`warning: ${mode.warning}`);
  else if (memoryNote) lines.push(`note: ${memoryNote}`);
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

/** What the memory estimate means for this machine, and what helps when even low-memory mode does not fit. */
function memoryAdvice(e: GenerationEstimate, available: number, layered: boolean, gb: (b: number) => string): string {
  const head = `this machine has ${gb(available)} available: the standard mode needs ${gb(e.memory.standardBytes)}`;
  if (e.memory.lowMemoryBytes <= available) return `${head}, the low-memory mode (${gb(e.memory.lowMemoryBytes)}) fits`;
  const p = e.memory.parts;
  const activations = p.activations + p.tokenCache;
  const advice = !layered && p.t5Weights > activations
    ? `the one-graph text encoder alone holds ${gb(p.t5Weights)} for the whole run: convert the model again with \`--text-mode layered\``
    : activations > e.memory.lowMemoryBytes / 2
      ? `activations${p.tokenCache ? ' and the token cache' : ''} take ${gb(activations)}: choose a smaller --size or --frames${p.tokenCache ? ', or run dense' : ''}`
      : 'free memory, use a machine with more, or convert the DiT with `--quantize int8`';
  return `${head}, and even the low-memory mode needs ${gb(e.memory.lowMemoryBytes)}; ${advice}`;
}
