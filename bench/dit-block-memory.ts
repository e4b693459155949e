/**
 * Peak RSS of one dense DiT block at a given token count, in its own process so the
 * numbers are not mixed with other runs:
 *   node --import tsx bench/dit-block-memory.ts <modelDir> <tokens> [attentionChunk]
 * Prints one JSON line.
 */
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import { normalRng } from './dit-common.js';

const [modelDir, tokensArg, chunkArg] = process.argv.slice(2);
const n = Number(tokensArg);
// mmapped weights: prepacking would copy every stage's weights at load and that load-time
// peak would hide the block's own working memory
const dit = await WanDiT.load(modelDir, { attentionChunk: chunkArg ? Number(chunkArg) : undefined, mmapWeights: true });
const peakAfterLoad = process.resourceUsage().maxRSS;
const D = dit.config.dim;
const rng = normalRng(7);
// a frames × 64 × 64 token grid (latent 16 × frames × 128 × 128); n must be a multiple of 4096
const grid = { frames: n / 4096, rows: 64, cols: 64 };
if (!Number.isInteger(grid.frames)) throw new Error('tokens must be a multiple of 4096');
const x = Float32Array.from({ length: n * D }, rng);
const { e0 } = await dit.embedTime(500);
const kv = await dit.contextKV(0, Float32Array.from({ length: dit.config.textLen * D }, rng));
const rope = dit.ropeTables(grid);
const mb = (kb: number): number => Math.round(kb / 1024);
const rssBefore = process.memoryUsage().rss;
const peakBefore = process.resourceUsage().maxRSS;
const t0 = performance.now();
const out = await dit.block(0, x, e0, rope, kv);
const seconds = (performance.now() - t0) / 1000;
const peakAfter = process.resourceUsage().maxRSS;
console.log(JSON.stringify({
  tokens: n, attentionChunk: dit.attentionChunk, seconds: Number(seconds.toFixed(2)),
  peakAfterLoadMB: mb(peakAfterLoad), rssBeforeBlockMB: Math.round(rssBefore / 2 ** 20), peakBeforeBlockMB: mb(peakBefore), peakAfterBlockMB: mb(peakAfter),
  blockPeakGrowthMB: mb(peakAfter - peakBefore), tokenMatrixMB: Math.round((n * D * 4) / 2 ** 20), outFinite: Number.isFinite(out.x[0]),
}));
await dit.release();
