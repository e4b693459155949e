/**
 * Latent <-> token conversions. Patchify is the gather form of Wan's Conv3d patch
 * embedding: each token's vector is ordered (c, kt, kh, kw), matching the conv weight
 * flattened to [dim, C·pt·ph·pw]. The head's output is ordered (kt, kh, kw, c) with the
 * output channel fastest, which is a different order.
 */
import type { Latent } from '../../../core/types.js';
import { DiTInputError } from './errors.js';

/** Token grid after patching: F' × H' × W'; token index = (f·H' + h)·W' + w. */
export interface PatchGrid {
  frames: number;
  rows: number;
  cols: number;
}

export const gridTokens = (g: PatchGrid): number => g.frames * g.rows * g.cols;

export function patchGrid(shape: Latent['shape'], patch: [number, number, number], channels: number): PatchGrid {
  const [c, f, h, w] = shape;
  if (c !== channels) throw new DiTInputError(`latent has ${c} channels but the DiT expects ${channels}; pass a latent shaped [${channels}, F, H, W]`);
  const names = ['frames', 'height', 'width'];
  [f, h, w].forEach((size, i) => {
    if (!Number.isInteger(size) || size <= 0 || size % patch[i] !== 0)
      throw new DiTInputError(`latent ${names[i]} ${size} is not a positive multiple of the patch size ${patch[i]}; choose a video size whose latent ${names[i]} divides by ${patch[i]}`);
  });
  return { frames: f / patch[0], rows: h / patch[1], cols: w / patch[2] };
}

/** [C, F, H, W] latent -> [tokens, C·pt·ph·pw] patch vectors. */
export function patchify(latent: Latent, patch: [number, number, number], grid: PatchGrid): Float32Array {
  const [C, F, H, W] = latent.shape;
  const [pt, ph, pw] = patch;
  const feat = C * pt * ph * pw;
  const out = new Float32Array(gridTokens(grid) * feat);
  const src = latent.data;
  if (src.length !== C * F * H * W) throw new DiTInputError(`latent data has ${src.length} values but shape [${latent.shape}] needs ${C * F * H * W}`);
  let token = 0;
  for (let f = 0; f < grid.frames; f++)
    for (let h = 0; h < grid.rows; h++)
      for (let w = 0; w < grid.cols; w++, token++) {
        let o = token * feat;
        for (let c = 0; c < C; c++)
          for (let kt = 0; kt < pt; kt++)
            for (let kh = 0; kh < ph; kh++) {
              const row = ((c * F + f * pt + kt) * H + h * ph + kh) * W + w * pw;
              for (let kw = 0; kw < pw; kw++) out[o++] = src[row + kw];
            }
      }
  return out;
}

/** [tokens, pt·ph·pw·C] head output -> [C, F, H, W] latent. */
export function unpatchify(tokens: Float32Array, patch: [number, number, number], grid: PatchGrid, channels: number): Latent {
  const [pt, ph, pw] = patch;
  const F = grid.frames * pt;
  const H = grid.rows * ph;
  const W = grid.cols * pw;
  const feat = pt * ph * pw * channels;
  const out = new Float32Array(channels * F * H * W);
  let token = 0;
  for (let f = 0; f < grid.frames; f++)
    for (let h = 0; h < grid.rows; h++)
      for (let w = 0; w < grid.cols; w++, token++) {
        let i = token * feat;
        for (let kt = 0; kt < pt; kt++)
          for (let kh = 0; kh < ph; kh++)
            for (let kw = 0; kw < pw; kw++)
              for (let c = 0; c < channels; c++) out[((c * F + f * pt + kt) * H + h * ph + kh) * W + w * pw + kw] = tokens[i++];
      }
  return { data: out, shape: [channels, F, H, W] };
}
