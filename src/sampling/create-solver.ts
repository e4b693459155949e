import { FlowDPMSolverPP } from './dpmpp.js';
import { FlowEulerSolver } from './euler.js';
import { SamplerConfigError, scheduleFor, SOLVER_NAMES, type SigmaSchedule, type SolverName } from './schedule.js';
import type { FlowSolver } from './solver.js';
import { FlowUniPCSolver } from './unipc.js';

/** A solver on the schedule its official counterpart would use (or on a given one). */
export function createSolver(name: SolverName, steps: number, shift: number, schedule?: SigmaSchedule): FlowSolver {
  const grid = schedule ?? scheduleFor(name, steps, shift);
  switch (name) {
    case 'unipc':
      return new FlowUniPCSolver(grid);
    case 'dpm++':
      return new FlowDPMSolverPP(grid);
    case 'euler':
      return new FlowEulerSolver(grid);
    default:
      throw new SamplerConfigError(`unknown solver '${String(name)}'; use one of ${SOLVER_NAMES.join(', ')}`);
  }
}
