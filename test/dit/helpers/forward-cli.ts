/**
 * Loads a converted DiT folder in a fresh process and writes the caseA forward output:
 * node --import tsx test/dit/helpers/forward-cli.ts <modelDir> <out.npy>
 */
import { writeNpy } from '../../../src/io/npy.js';
import { WanDiT } from '../../../src/models/wan/dit/runtime.js';
import { fixture } from '../fixtures.js';

const [modelDir, outPath] = process.argv.slice(2);
const dit = await WanDiT.load(modelDir, { intraOpThreads: 1 });
const x = fixture('x');
const ctx = fixture('context');
const out = await dit.forward(
  { data: x.data, shape: x.shape as [number, number, number, number] },
  fixture('caseA_t').data[0],
  { data: ctx.data, shape: ctx.shape as [number, number] },
);
writeNpy(outPath, { dtype: 'float32', shape: out.shape, data: out.data });
await dit.release();
