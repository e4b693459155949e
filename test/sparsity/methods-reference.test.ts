/**
 * Every sparsity method gives the same final latent as the code before the executor
 * refactor (issue 15), for the same seed on the fixture tiny DiT: the reference numbers
 * in reference/method-outputs.json were recorded by reference/record.ts from that code.
 * Bit-identical on the recording machine; a small tolerance absorbs another CPU's kernels.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_METHODS } from '../../src/sparsity/methods/index.js';
import { generate, tinySetup, type TinySetup } from './helpers.js';
import { cases, summarize, type OutputSummary } from './reference/cases.js';

const reference = JSON.parse(readFileSync(fileURLToPath(new URL('./reference/method-outputs.json', import.meta.url)), 'utf8')) as Record<string, OutputSummary>;

let s: TinySetup;
beforeAll(async () => {
  s = await tinySetup();
});
afterAll(async () => {
  await s?.close();
});

describe('every method reproduces its pre-refactor output (fixture tiny DiT, UniPC 8 steps, CFG 5)', () => {
  it('covers every recorded case and every registered method', () => {
    expect(cases(s).map((c) => c.name).sort()).toEqual(Object.keys(reference).sort());
    for (const m of CACHE_METHODS) expect(Object.keys(reference).some((name) => name.startsWith(`${m.name}:`) || name.startsWith(`${m.name}@`)), m.name).toBe(true);
  });

  it('matches the recorded final latents', async () => {
    const exact: string[] = [];
    for (const c of cases(s)) {
      const model = await c.build();
      const data = await generate(s, model);
      await model.release?.();
      const ref = reference[c.name];
      const got = summarize(data);
      expect(got.length, c.name).toBe(ref.length);
      for (let i = 0; i < ref.samples.length; i++) expect(Math.abs(got.samples[i] - ref.samples[i]), `${c.name} sample ${i}`).toBeLessThan(1e-5);
      expect(Math.abs(got.sumAbs - ref.sumAbs) / ref.sumAbs, `${c.name} Σ|x|`).toBeLessThan(1e-6);
      expect(Math.abs(got.sumSq - ref.sumSq) / ref.sumSq, `${c.name} Σx²`).toBeLessThan(1e-6);
      if (createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex') === ref.sha256) exact.push(c.name);
    }
    console.log(`methods-reference: ${exact.length} of ${Object.keys(reference).length} cases bit-identical to the recording`);
  });
});
