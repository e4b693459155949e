import { describe, expect, it } from 'vitest';
import { linspace, samplingSigmasSchedule, SamplerConfigError, unipcSchedule } from '../../src/sampling/schedule.js';
import { scheduleFor } from '../../src/sampling/solvers.js';
import { loadF32, loadTimesteps, SAMPLER_FIXTURES } from './fixtures.js';

describe('flow-matching schedules', () => {
  for (const [prefix, build] of [['unipc', unipcSchedule], ['dpmpp', samplingSigmasSchedule]] as const) {
    for (const steps of [8, 50]) {
      it(`${prefix} ${steps} steps, shift 5: timesteps and float32 sigmas are exact`, () => {
        const s = build(steps, 5);
        expect(s.timesteps).toEqual(loadTimesteps(`schedules/${prefix}_${steps}_timesteps.npy`));
        expect(Array.from(s.sigmas)).toEqual(Array.from(loadF32(`schedules/${prefix}_${steps}_sigmas.npy`).data));
      });
    }
  }

  for (const { dir, solver } of SAMPLER_FIXTURES) {
    it(`${solver} matches the schedule the sampler fixture ran with`, () => {
      const s = scheduleFor(solver, 8, 5);
      expect(s.timesteps).toEqual(loadTimesteps(`${dir}/timesteps.npy`));
      expect(Array.from(s.sigmas)).toEqual(Array.from(loadF32(`${dir}/sigmas.npy`).data));
    });
  }

  it('reproduces the documented 50-step UniPC timesteps at shifts 3 and 12', () => {
    const t3 = unipcSchedule(50, 3).timesteps;
    expect(t3.slice(0, 6)).toEqual([999, 992, 985, 978, 971, 963]);
    expect(t3.slice(-5)).toEqual([249, 206, 160, 111, 57]);
    expect(unipcSchedule(50, 12).timesteps.slice(-4)).toEqual([510, 433, 333, 196]);
  });

  it('Euler uses the get_sampling_sigmas grid, starting at sigma 1', () => {
    const s = scheduleFor('euler', 4, 1);
    expect(Array.from(s.sigmas)).toEqual([1, 0.75, 0.5, 0.25, 0]);
    expect(s.timesteps).toEqual([1000, 750, 500, 250]);
  });

  it('linspace pins the last point like numpy', () => {
    expect(linspace(1, 0, 5)).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });

  it('rejects bad step counts and shifts with a typed error', () => {
    expect(() => unipcSchedule(0, 5)).toThrow(SamplerConfigError);
    expect(() => unipcSchedule(2.5, 5)).toThrow(/positive integer/);
    expect(() => samplingSigmasSchedule(8, 0)).toThrow(/shift/);
    expect(() => scheduleFor('ddim' as never, 8, 5)).toThrow(/unknown solver/);
  });
});
