/**
 * `info`'s estimates for a pipeline folder (issue 17): at the pipeline's default setting, the
 * memory needed (standard and low-memory) and the estimated time, dense and with each shipped
 * schedule, from the FLOPs formulas and this machine's measured (cached) matmul speed.
 * Separate from info.ts so the other `info` additions (issue 19) merge without conflict.
 */
export interface InfoEstimate {
  setting: { width: number; height: number; frames: number; steps: number };
  gflops: number;
  /** Milliseconds per onnxruntime call and per session created (call-cost.ts). */
  callMs: number;
  sessionMs: number;
  memory: { standardBytes: number; lowMemoryBytes: number };
  dense: { perStepSeconds: number; totalSeconds: number };
  schedules: { name: string; flopsRatio: number; perStepSeconds: number; totalSeconds: number }[];
  lines: string[];
}

/** Null when `target` is not something a pipeline resolves from (then `info` prints what it printed before). */
export async function infoEstimate(target: string, threads = 2): Promise<InfoEstimate | null> {
  const { preflight, readPipelineSizes } = await import('../../pipeline/preflight.js');
  const { describeEstimate, formatSeconds } = await import('../../pipeline/estimate.js');
  let definition;
  try {
    definition = readPipelineSizes(target).definition;
  } catch {
    return null;
  }
  const { matmulSpeed } = await import('../../pipeline/matmul-speed.js');
  const { callCost, probeShape } = await import('../../pipeline/call-cost.js');
  const { gflops } = await matmulSpeed(threads);
  const base = { prompt: '', output: 'estimate.mp4' };
  const rough = await preflight(target, base, { gflops });
  const { callMs, sessionMs } = await callCost(threads, probeShape(rough.estimate.tokens, rough.pipeline.sizes.dit.dim), gflops);
  const speed = { gflops, callMs, sessionMs };
  const dense = await preflight(target, base, { speed });
  const s = dense.estimate.seconds!;
  const lines = describeEstimate(dense.estimate, dense.request);
  const schedules: InfoEstimate['schedules'] = [];
  for (const name of Object.keys(definition.schedules ?? {})) {
    try {
      const p = await preflight(target, { ...base, schedule: name }, { speed });
      const ps = p.estimate.seconds!;
      schedules.push({ name, flopsRatio: p.flopsRatio, perStepSeconds: ps.perStep, totalSeconds: ps.total });
      lines.push(`with schedule ${name} (${(p.flopsRatio * 100).toFixed(0)}% of FLOPs): ${formatSeconds(ps.perStep)}/step, ${formatSeconds(ps.total)} in all`);
    } catch (e) {
      lines.push(`schedule ${name}: ${(e as Error).message}`);
    }
  }
  const r = dense.request;
  return {
    setting: { width: r.width, height: r.height, frames: r.frames, steps: r.steps }, gflops, callMs, sessionMs,
    memory: { standardBytes: dense.estimate.memory.standardBytes, lowMemoryBytes: dense.estimate.memory.lowMemoryBytes },
    dense: { perStepSeconds: s.perStepDense, totalSeconds: s.totalDense }, schedules, lines,
  };
}
