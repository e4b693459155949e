/**
 * A calibrated cost table on disk (`schedule learn --save-cost`), so schedules for other
 * budgets can be solved (`schedule solve --cost`) or learned (`schedule learn --cost`)
 * without measuring the model again. Calibration is budget-independent; the table is only
 * valid for the model, step count and attention variant it was measured with.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import type { AttentionVariant } from './flops.js';
import type { CostTable } from './learn.js';
import { jsonErrorMessage, MAX_JSON_INPUT_BYTES, refuseSpecialFile } from '../io/input-file.js';

export const COST_TABLE_FORMAT = 'diffsparse/cost-table';

export interface CostTableFile {
  format: typeof COST_TABLE_FORMAT;
  version: 1;
  /** The schedule model record (`id`, `fingerprint`) of the DiT it was measured on. */
  model: { id: string; fingerprint?: string };
  steps: number;
  layers: number;
  levels: number[];
  attention: AttentionVariant;
  /** cost[step][layer][levelIndex]. */
  cost: number[][][];
}

export class CostTableError extends UserError {
  override readonly name: string = 'CostTableError';
}

export async function saveCostTable(file: string, doc: Omit<CostTableFile, 'format' | 'version' | 'cost'>, cost: CostTable): Promise<void> {
  const out: CostTableFile = { format: COST_TABLE_FORMAT, version: 1, ...doc, cost: cost.map((row) => row.map((c) => Array.from(c))) };
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(out)}\n`);
  await rename(tmp, file);
}

/** Reads a cost table and checks it fits the model and step count it will be used with. */
export async function loadCostTable(file: string, expect: { fingerprint?: string; steps: number; layers: number }): Promise<{ doc: CostTableFile; cost: CostTable }> {
  let doc: CostTableFile;
  await refuseSpecialFile(file, 'a cost table', MAX_JSON_INPUT_BYTES); // a FIFO or /dev/zero would read forever (issue 18)
  try {
    doc = JSON.parse(await readFile(file, 'utf8')) as CostTableFile;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = err instanceof SyntaxError ? jsonErrorMessage(err) : (err as Error).message;
    throw new CostTableError(`cost table ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${why})`}; write one with \`diffsparse schedule learn --save-cost\``);
  }
  if (doc?.format !== COST_TABLE_FORMAT || doc.version !== 1 || !Array.isArray(doc.cost) || !Array.isArray(doc.levels) || typeof doc.model !== 'object' || doc.model === null) {
    throw new CostTableError(`${file} is not a diffsparse cost table; write one with \`diffsparse schedule learn --save-cost\``);
  }
  if (expect.fingerprint && doc.model.fingerprint && doc.model.fingerprint !== expect.fingerprint) {
    throw new CostTableError(`cost table ${file} was measured on another model (${doc.model.id}); learn a new one for this pipeline`);
  }
  if (doc.steps !== expect.steps || doc.layers !== expect.layers) {
    throw new CostTableError(`cost table ${file} is for ${doc.steps} steps × ${doc.layers} layers, not ${expect.steps} × ${expect.layers}; pass --steps ${doc.steps} or learn a new table`);
  }
  const ok = doc.cost.length === doc.steps && doc.cost.every((row) => row.length === doc.layers && row.every((c) => c.length === doc.levels.length && c.every(Number.isFinite)));
  if (!ok) throw new CostTableError(`cost table ${file} is malformed (its cost array does not match steps × layers × levels)`);
  return { doc, cost: doc.cost.map((row) => row.map((c) => Float64Array.from(c))) };
}
