/**
 * The fidelity bench's scoring thread: decodes final latents with the VAE, keeps the dense
 * clips as references, and returns PSNR / SSIM against the dense clip of the same case and the
 * adherence measurement of the clip. It runs beside the main thread, so on a 2-core machine the
 * next variant's generations overlap the previous variant's decoding.
 *
 * `FidelityScorer` is the main thread's side (start, score, close); the worker side runs when
 * this module is loaded as a worker (workerData set).
 */
import { parentPort, workerData, type Worker } from 'node:worker_threads';
import type { Latent } from '../src/core/types.js';
import { measureClip, type ClipMeasurement } from '../src/eval/adherence.js';
import { VaeChunkDecoder } from '../src/models/wan/vae/chunk-decoder.js';
import { startModuleWorker } from '../src/runtime/worker.js';
import { videoPsnr, videoSsim, type Video } from '../src/sparsity/fidelity.js';
import { latentFrames } from '../src/video/decode-stream.js';
import { planarToRgb24 } from '../src/video/pixels.js';

interface Init {
  vaeDir: string;
  threads: number;
  shape: Latent['shape'];
}
type Request = { type: 'score'; id: number; latent: Float32Array; index: number; reference: boolean } | { type: 'close' };
export interface Scored {
  psnr: number;
  ssim: number;
  measured: ClipMeasurement;
}
type Reply = { type: 'ready' } | { type: 'scored'; id: number; scored: Scored } | { type: 'error'; id: number; message: string };

async function decode(vae: VaeChunkDecoder, latent: Float32Array, shape: Latent['shape']): Promise<Video> {
  const state = vae.open();
  const parts = [];
  for (const frame of latentFrames({ data: latent, shape })) parts.push(await state.decode(frame, shape[2], shape[3]));
  const frames = parts.reduce((a, c) => a + c.frames, 0);
  const { height, width } = parts[0];
  const data = new Float32Array(3 * frames * height * width);
  const plane = height * width;
  for (const c of parts) for (let ch = 0; ch < 3; ch++) data.set(c.data.subarray(ch * c.frames * plane, (ch + 1) * c.frames * plane), (ch * frames + c.firstFrame) * plane);
  return { data, frames, height, width };
}

async function workerMain(init: Init): Promise<void> {
  const port = parentPort!;
  const vae = await VaeChunkDecoder.load(init.vaeDir, { intraOpThreads: init.threads });
  const references = new Map<number, Video>();
  let queue = Promise.resolve();
  port.on('message', (m: Request) => {
    queue = queue.then(async () => {
      if (m.type === 'close') {
        await vae.release();
        port.close();
        return;
      }
      try {
        const v = await decode(vae, m.latent, init.shape);
        if (m.reference) references.set(m.index, v);
        const ref = references.get(m.index);
        if (!ref) throw new Error(`no dense reference for case ${m.index}`);
        const measured = measureClip(planarToRgb24(v.data, v.frames, v.height, v.width), v.width, v.height);
        port.postMessage({ type: 'scored', id: m.id, scored: { psnr: videoPsnr(ref, v), ssim: videoSsim(ref, v), measured } } satisfies Reply);
      } catch (e) {
        port.postMessage({ type: 'error', id: m.id, message: (e as Error).message } satisfies Reply);
      }
    });
  });
  port.postMessage({ type: 'ready' } satisfies Reply);
}

if (workerData && (workerData as { fidelityScorer?: Init }).fidelityScorer) void workerMain((workerData as { fidelityScorer: Init }).fidelityScorer);

export class FidelityScorer {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (s: Scored) => void; reject: (e: Error) => void }>();
  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Reply) => {
      if (m.type === 'ready') return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.type === 'scored') w?.resolve(m.scored);
      else w?.reject(new Error(`scoring thread: ${m.message}`));
    });
    worker.on('error', (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
  }

  static start(vaeDir: string, threads: number, shape: Latent['shape']): FidelityScorer {
    return new FidelityScorer(startModuleWorker(new URL('./fidelity-worker-common.js', import.meta.url), { workerData: { fidelityScorer: { vaeDir, threads, shape } } }));
  }

  /** Decodes and scores one case's latent; `reference` marks the dense clip later ones compare with. */
  score(latent: Float32Array, index: number, reference = false): Promise<Scored> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'score', id, latent, index, reference } satisfies Request);
    });
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' } satisfies Request);
    await new Promise((r) => this.worker.once('exit', r));
  }
}
