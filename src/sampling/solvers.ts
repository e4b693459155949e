/**
 * The solver registry: every sampler by name, with its help text, the sigma schedule its
 * official counterpart uses and its constructor. The CLI, request validation and pipeline
 * definitions read names from here. Adding a solver: its file, its name in `SolverName`
 * (src/core/types.ts) and one entry below (the compiler checks the two agree).
 */
import type { SolverName } from '../core/types.js';
import { FlowDPMSolverPP } from './dpmpp.js';
import { FlowEulerSolver } from './euler.js';
import { SamplerConfigError, samplingSigmasSchedule, unipcSchedule, type SigmaSchedule } from './schedule.js';
import type { FlowSolver } from './solver.js';
import { FlowUniPCSolver } from './unipc.js';

export interface SolverEntry {
  help: string;
  /** The sigma schedule of the official implementation. */
  schedule(steps: number, shift: number): SigmaSchedule;
  create(schedule: SigmaSchedule): FlowSolver;
}

export const SOLVERS: Readonly<Record<SolverName, SolverEntry>> = {
  unipc: { help: 'UniPC multistep (the Wan2.1 default)', schedule: unipcSchedule, create: (g) => new FlowUniPCSolver(g) },
  'dpm++': { help: 'DPM-Solver++ (2M)', schedule: samplingSigmasSchedule, create: (g) => new FlowDPMSolverPP(g) },
  euler: { help: 'flow-matching Euler', schedule: samplingSigmasSchedule, create: (g) => new FlowEulerSolver(g) },
};

export const SOLVER_NAMES = Object.keys(SOLVERS) as readonly SolverName[];

export const isSolverName = (name: string): name is SolverName => Object.hasOwn(SOLVERS, name);

function entry(name: SolverName): SolverEntry {
  if (!isSolverName(name)) throw new SamplerConfigError(`unknown solver '${String(name)}'; use one of ${SOLVER_NAMES.join(', ')}`);
  return SOLVERS[name];
}

/** The sigma schedule the solver's official counterpart uses. */
export function scheduleFor(solver: SolverName, steps: number, shift: number): SigmaSchedule {
  return entry(solver).schedule(steps, shift);
}

/** A solver on the schedule its official counterpart would use (or on a given one). */
export function createSolver(name: SolverName, steps: number, shift: number, schedule?: SigmaSchedule): FlowSolver {
  const e = entry(name);
  return e.create(schedule ?? e.schedule(steps, shift));
}
