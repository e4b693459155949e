/**
 * Issue 17: the share of the matmul probe's speed the Wan VAE decoder's convolutions sustain
 * (the estimate's VAE_CONV_EFFICIENCY), at the demo's width and at the release's (dim 96), with
 * random weights, measured with the matmul probe in the same process.
 *
 *   npm run bench -- vae-efficiency [--dims 8,96] [--size 8] [--frames 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaeChunkDecoder } from '../src/models/wan/vae/chunk-decoder.js';
import { convertVaeDecoder } from '../src/models/wan/vae/convert.js';
import { randomVaeWeights } from '../src/models/wan/vae/random-weights.js';
import { vaeDecodeFlops } from '../src/pipeline/estimate.js';
import { measureMatmulSpeed } from '../src/pipeline/matmul-speed.js';
import { decodeStream } from '../src/video/decode-stream.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : fallback);
const dims = flag('dims', '8,96').split(',').map(Number);
const size = Number(flag('size', '8'));
const frames = Number(flag('frames', '2'));
const dir = mkdtempSync(join(tmpdir(), 'ds-vae-eff-'));
try {
  for (const dim of dims) {
    const out = join(dir, `vae-${dim}`);
    await convertVaeDecoder(randomVaeWeights({ dim, zDim: 16 }), out);
    const dec = await VaeChunkDecoder.load(out);
    const latent = Array.from({ length: frames }, (_, f) => Float32Array.from({ length: 16 * size * size }, (_, i) => Math.sin(i * 0.7 + f)));
    for await (const _ of decodeStream(dec, latent.slice(0, 1), { height: size, width: size })); // warm-up
    const mm = await measureMatmulSpeed(2);
    const t0 = performance.now();
    for await (const _ of decodeStream(dec, latent, { height: size, width: size }));
    const seconds = (performance.now() - t0) / 1000;
    const flops = vaeDecodeFlops({ dim, zDim: 16 }, [16, frames, size, size]);
    console.log(JSON.stringify({ dim, latent: `${frames}x${size}x${size}`, seconds: +seconds.toFixed(2), gflop: +(flops / 1e9).toFixed(1), vaeGflops: +(flops / seconds / 1e9).toFixed(1), matmulGflops: +mm.gflops.toFixed(0), efficiency: +(flops / seconds / 1e9 / mm.gflops).toFixed(2), load: loadavg()[0]!.toFixed(1) }));
    await dec.first.release();
    await dec.next.release();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
