/**
 * training/adherence.py (what training-time checks such as eval_dit.py use) must measure what
 * the TypeScript bench measures: the same clips, rendered here, go through both and every
 * attribute, the continuity verdicts and the per-frame centroids must agree. The Python side
 * needs numpy only; the test is skipped, saying why, where /usr/bin/python3 (or $ADHERENCE_PYTHON)
 * has no numpy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { measureClip, type ClipMeasurement } from '../../src/eval/adherence.js';
import { GEOMETRIES, SHAPES } from '../../src/eval/adherence-vocabulary.js';
import { centredStart, renderClip, type SyntheticClip } from './adherence-render.js';

const PYTHON = process.env.ADHERENCE_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
const skipReason = probe.status === 0 ? null
  : `${PYTHON} cannot import numpy (${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()}); set ADHERENCE_PYTHON to a python with numpy to run the cross-language check`;
if (skipReason) console.warn(`skipping the training/adherence.py agreement test: ${skipReason}`);

function clipsToCheck(): SyntheticClip[] {
  const out: SyntheticClip[] = [];
  for (const geometry of ['tiny', 'v2'] as const) {
    const g = GEOMETRIES[geometry];
    const mid = g.frames >> 1;
    const base = (over: Partial<SyntheticClip>): SyntheticClip => {
      const direction = over.direction ?? 'left', size = over.size ?? 'large', speed = over.speed ?? 'slow';
      return { colour: 'green', shape: 'circle', background: 'dark', geometry, direction, size, speed, start: centredStart(direction, size, speed, undefined, geometry), ...over };
    };
    SHAPES.forEach((shape, i) => {
      out.push(base({ shape, colour: (['red', 'yellow', 'purple'] as const)[i], direction: (['up', 'down', 'right'] as const)[i], background: i === 1 ? 'light' : 'dark' }));
      out.push(base({ shape, colour: 'blue', size: 'small', speed: 'fast', boxBlur: 2, noise: 5, seed: 3 + i }));
    });
    out.push(base({ shape: 'triangle', colour: 'purple', blur: 1, noise: 4, objects: (t, cx, cy) => (t < mid ? [{ cx, cy, alpha: t === mid - 1 ? 0.55 : 1 }] : [{ cx: cx - 2 * g.halfExtent.large, cy, alpha: t === mid ? 0.55 : 1 }]) }));
    out.push(base({ size: 'small', blur: 1, noise: 4, objects: (t, cx, cy) => [{ cx, cy }, { cx, cy: cy + 3 * g.halfExtent.small, alpha: t === mid ? 0.5 : 1 }] }));
    out.push(base({ colour: 'purple', blur: 1, noise: 4, objects: (t, cx, cy) => [{ cx, cy, colour: t >= mid ? 'red' : 'purple' }] }));
    out.push(base({ colour: 'white', blur: 1, noise: 4, objects: (t, cx, cy) => (t === 2 ? [] : [{ cx, cy, alpha: t === mid ? 0.2 : 1 }]) }));
    out.push(base({ colour: 'white', colourGain: 0.33, background: 'light', direction: 'none', blur: 1, noise: 8 }));
  }
  return out;
}

interface PyMeasurement {
  object_found: boolean; colour: string | null; direction: string; shape: string | null; continuous: boolean; colour_stable: boolean;
  speed: string | null; size: string | null; background_name: string; geometry: string; fill: number | null; asymmetry: number | null;
  centroids: Array<[number, number] | null>;
  continuity: { missing_frames: number[]; multi_object_frames: number[]; jumps: number[]; median_step: number };
}

describe.skipIf(skipReason !== null)('training/adherence.py agrees with the TypeScript measurement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'diffsparse-adherence-py-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on clean, blurred and broken clips of both geometries', () => {
    const clips = clipsToCheck().map((c, i) => {
      const { frames, width, height } = renderClip(c);
      const path = join(dir, `clip${i}.rgb`);
      writeFileSync(path, Buffer.concat(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))));
      return { clip: c, ts: measureClip(frames, width, height), entry: { path, width, height, frames: frames.length } };
    });
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify(clips.map((c) => c.entry)));
    const run = spawnSync(PYTHON, [resolve('training/adherence.py'), '--manifest', manifest], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const py = JSON.parse(run.stdout) as PyMeasurement[];
    expect(py).toHaveLength(clips.length);
    const summary = (m: ClipMeasurement): unknown[] => [
      m.objectFound, m.colour, m.direction, m.shape, m.continuous, m.colourStable, m.speed, m.size, m.backgroundName, m.geometry,
      m.continuity.missingFrames, m.continuity.multiObjectFrames, m.continuity.jumps,
    ];
    const pySummary = (p: PyMeasurement): unknown[] => [
      p.object_found, p.colour, p.direction, p.shape, p.continuous, p.colour_stable, p.speed, p.size, p.background_name, p.geometry,
      p.continuity.missing_frames, p.continuity.multi_object_frames, p.continuity.jumps,
    ];
    clips.forEach(({ clip, ts }, i) => {
      const label = `clip ${i}: ${clip.geometry} ${clip.colour} ${clip.shape} ${clip.direction}`;
      expect(pySummary(py[i]), label).toEqual(summary(ts));
      expect(py[i].fill ?? NaN, label).toBeCloseTo(ts.fill ?? NaN, 9);
      expect(py[i].asymmetry ?? NaN, label).toBeCloseTo(ts.asymmetry ?? NaN, 9);
      expect(py[i].continuity.median_step, label).toBeCloseTo(ts.continuity.medianStep, 6);
      ts.frames.forEach((f, t) => {
        const c = py[i].centroids[t];
        if (f.centroid === null) expect(c, `${label} frame ${t}`).toBeNull();
        else {
          expect(c![0], `${label} frame ${t}`).toBeCloseTo(f.centroid[0], 6);
          expect(c![1], `${label} frame ${t}`).toBeCloseTo(f.centroid[1], 6);
        }
      });
    });
    // the broken clips are broken on both sides, the clean ones whole
    expect(clips.filter((c) => !c.ts.continuous || !c.ts.colourStable)).toHaveLength(8);
  });
});
