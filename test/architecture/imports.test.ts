/**
 * The import rule of src/ (docs/ARCHITECTURE.md): every folder under src/ is a room with a
 * layer, and a module may import its own room or a room on a lower layer, never one on its
 * own layer or above. src/core/ is the bottom and imports nothing. Reads the TypeScript
 * sources (static and dynamic imports, re-exports, worker URLs); no extra dependency.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Rooms by layer, bottom first. A room may import only rooms on lower layers. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['io', 'onnx', 'runtime', 'weights'],
  ['models'],
  ['text', 'video', 'sampling'],
  ['sparsity'],
  ['pipeline'],
  ['batch', 'convert'],
  ['eval'],
  ['cli'],
  ['(root)'],
];

const layerOf = new Map(LAYERS.flatMap((rooms, i) => rooms.map((r) => [r, i] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const roomOf = (file: string): string => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0] : '(root)';
};

/** Relative specifiers a module imports, re-exports, loads dynamically or starts as a worker. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s*(['"])(\.[^'"]*)\1/g, /\bimport\s*\(\s*(['"])(\.[^'"]*)\1/g, /\bimport\s+(['"])(\.[^'"]*)\1/g, /new URL\(\s*(['"`])(\.[^'"`]*)\1\s*,\s*import\.meta\.url/g];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[2]);
  return out;
}

interface Edge {
  file: string;
  target: string;
  from: string;
  to: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(SRC))
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith(SRC)) continue;
      out.push({ file: relative(SRC, file), target: relative(SRC, target), from: roomOf(file), to: roomOf(target) });
    }
  return out;
}

describe('the import rule of src/', () => {
  const all = edges();

  it('finds the imports (the scan works)', () => {
    expect(all.length).toBeGreaterThan(200);
    expect(importsOf(`import type { A } from '../core/types.js';\nexport * from './x.js';\nawait import('../y.js');\nimport './z.js';`)).toEqual(['../core/types.js', './x.js', '../y.js', './z.js']);
  });

  it('every room has a layer', () => {
    const rooms = new Set(sources(SRC).map(roomOf));
    for (const room of rooms) expect(layerOf.has(room), `src/${room}/ needs a layer in test/architecture/imports.test.ts and docs/ARCHITECTURE.md`).toBe(true);
  });

  it('imports point down: no room imports its own layer or one above', () => {
    const upward = all
      .filter((e) => e.from !== e.to && layerOf.get(e.to)! >= layerOf.get(e.from)!)
      .map((e) => `src/${e.file} (${e.from}) imports src/${e.target} (${e.to})`);
    expect(upward).toEqual([]);
  });

  it('src/core imports nothing from the project outside itself', () => {
    expect(all.filter((e) => e.from === 'core' && e.to !== 'core').map((e) => e.file)).toEqual([]);
  });

  it('models, text, video, sampling, sparsity, weights, onnx, runtime and io never import pipeline, batch, cli or eval', () => {
    const low = new Set(['models', 'text', 'video', 'sampling', 'sparsity', 'weights', 'onnx', 'runtime', 'io', 'core']);
    const high = new Set(['pipeline', 'batch', 'cli', 'eval']);
    expect(all.filter((e) => low.has(e.from) && high.has(e.to)).map((e) => `${e.file} -> ${e.target}`)).toEqual([]);
  });
});
