/**
 * The umT5 encoder run layer by layer straight from the checkpoint (issue 17): umT5-XXL is
 * 22.7 GB in float32 (11.4 GB as the released bf16 .pth), more than a 24 GB machine can hold
 * next to the DiT. Here
 *   - the token embedding [256384, 4096] is never widened whole: the rows of the prompt's ids
 *     are read from the file one by one (16 KB each in bf16);
 *   - one graph of one layer takes its weights as *inputs*: each layer's ten tensors are read
 *     from the file (bf16 → float32, exact), fed for that layer's run and dropped, so about
 *     one layer (0.8 GB in float32 for XXL) is held at a time and one session serves all layers;
 *   - Linear weights go in as stored ([out, in]) and are transposed inside the graph.
 * The ops are those of the one-graph encoder (graph.ts shares `t5Layer`), so the numbers are
 * the same (test/text/t5-layered.test.ts).
 */
import { GraphBuilder, type Value } from '../../../onnx/builder.js';
import { createSession, f32Tensor, i64Tensor, type Session, type SessionOptions, type Tensor } from '../../../runtime/session.js';
import type { TextContext } from '../../../core/types.js';
import { readRowsF32, type WeightSource } from '../../../weights/index.js';
import { T5ConfigError, t5Keys, type T5EncoderConfig } from './config.js';
import { bucketMatrix, paddingBias, t5Layer, type T5LayerWeight } from './graph.js';
import { t5KeyIndex } from './weights.js';
import { trimToMask } from './session.js';

const LAYER_WEIGHTS: readonly T5LayerWeight[] = ['posEmbedding', 'norm1', 'q', 'k', 'v', 'o', 'norm2', 'gate', 'fc1', 'fc2'];

/** Graph of one layer: x [B, L, dim], mask [B, L] and the layer's weights as inputs → x. */
export async function buildT5LayerGraph(cfg: T5EncoderConfig): Promise<GraphBuilder> {
  const g = new GraphBuilder('umt5_layer');
  const x = g.input('x', 'float32', ['batch', 'tokens', cfg.dim]);
  const mask = g.input('mask', 'int64', ['batch', 'tokens']);
  const shapes: Record<T5LayerWeight, number[]> = {
    posEmbedding: [cfg.numBuckets, cfg.numHeads], norm1: [cfg.dim], norm2: [cfg.dim],
    q: [cfg.dimAttn, cfg.dim], k: [cfg.dimAttn, cfg.dim], v: [cfg.dimAttn, cfg.dim], o: [cfg.dim, cfg.dimAttn],
    gate: [cfg.dimFfn, cfg.dim], fc1: [cfg.dimFfn, cfg.dim], fc2: [cfg.dim, cfg.dimFfn],
  };
  const { paddedKey, minValue } = paddingBias(g, mask);
  const out = await t5Layer(g, cfg, x, bucketMatrix(g, mask, cfg), paddedKey, minValue, async (key, kind): Promise<Value> => {
    const w = g.input(`w_${key}`, 'float32', shapes[key]);
    return kind === 'linear' ? g.transpose(w, [1, 0]) : w;
  });
  g.output(out.x, 'y', 'float32', ['batch', 'tokens', cfg.dim]);
  return g;
}

/** The final RMS norm as a graph with its weight as an input. */
function buildFinalNormGraph(cfg: T5EncoderConfig): GraphBuilder {
  const g = new GraphBuilder('umt5_final_norm');
  const x = g.input('x', 'float32', ['batch', 'tokens', cfg.dim]);
  g.output(g.rmsNorm(x, g.input('w', 'float32', [cfg.dim]), cfg.eps), 'y', 'float32', ['batch', 'tokens', cfg.dim]);
  return g;
}

export interface LayeredRunStats {
  /** Bytes of float32 weights read for the last run (embedding rows included). */
  weightBytes: number;
  /** The largest set of one layer's weights held at once. */
  largestLayerBytes: number;
}

/** Same surface as T5EncoderSession (run / encodeTrimmed / session.release), weights from the checkpoint. */
export class LayeredT5Encoder {
  runs = 0;
  lastRun: LayeredRunStats = { weightBytes: 0, largestLayerBytes: 0 };
  /** Releases both sessions (named like T5EncoderSession's so callers release either the same way). */
  readonly session: { release(): Promise<void> };

  private constructor(
    readonly source: WeightSource,
    readonly config: T5EncoderConfig,
    private readonly index: Map<string, string>,
    private readonly layer: Session,
    private readonly finalNorm: Session,
    ownsSource: boolean,
  ) {
    this.session = {
      release: async () => {
        await layer.release();
        await finalNorm.release();
        if (ownsSource) await source.close();
      },
    };
  }

  /** Opens the encoder over a checkpoint's tensors (original Wan or HF UMT5 names); `ownsSource` closes it on release. */
  static async open(source: WeightSource, config: T5EncoderConfig, options: SessionOptions & { ownsSource?: boolean } = {}): Promise<LayeredT5Encoder> {
    const index = t5KeyIndex(source);
    const need = [t5Keys.embedding, t5Keys.finalNorm, ...Array.from({ length: config.numLayers }, (_, i) => LAYER_WEIGHTS.map((k) => t5Keys.block(i)[k])).flat()];
    const missing = need.filter((k) => !index.has(k));
    if (missing.length) throw new T5ConfigError(`${source.path}: the checkpoint has no tensor ${missing[0]}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; is it a complete umT5 encoder?`);
    const session = { intraOpThreads: options.intraOpThreads, providers: options.providers };
    const layer = await createSession((await buildT5LayerGraph(config)).toBytes(), session);
    const finalNorm = await createSession(buildFinalNormGraph(config).toBytes(), session);
    return new LayeredT5Encoder(source, config, index, layer, finalNorm, options.ownsSource ?? false);
  }

  private read(key: string): Promise<Float32Array> {
    return this.source.readF32(this.index.get(key)!);
  }

  /** Raw encoder output [batch, length, dim] for padded ids and mask, both [batch, length]. */
  async run(ids: BigInt64Array, mask: BigInt64Array, batch: number): Promise<Float32Array> {
    const length = ids.length / batch;
    const cfg = this.config;
    this.runs++;
    const rows = Array.from(ids, (id) => {
      const n = Number(id);
      if (n < 0 || n >= cfg.vocab) throw new T5ConfigError(`token id ${n} is outside the encoder's vocabulary of ${cfg.vocab}`);
      return n;
    });
    let x = await readRowsF32(this.source, this.index.get(t5Keys.embedding)!, rows);
    const stats: LayeredRunStats = { weightBytes: x.byteLength, largestLayerBytes: 0 };
    const maskTensor = i64Tensor(mask, [batch, length]);
    for (let i = 0; i < cfg.numLayers; i++) {
      const keys = t5Keys.block(i);
      const feeds: Record<string, Tensor> = { x: f32Tensor(x, [batch, length, cfg.dim]), mask: maskTensor };
      let bytes = 0;
      for (const name of LAYER_WEIGHTS) {
        const data = await this.read(keys[name]);
        bytes += data.byteLength;
        feeds[`w_${name}`] = f32Tensor(data, this.source.info(this.index.get(keys[name])!).shape);
      }
      stats.weightBytes += bytes;
      stats.largestLayerBytes = Math.max(stats.largestLayerBytes, bytes);
      const out = await this.layer.run(feeds);
      x = out.y.data as Float32Array;
    }
    const norm = await this.read(t5Keys.finalNorm);
    const out = await this.finalNorm.run({ x: f32Tensor(x, [batch, length, cfg.dim]), w: f32Tensor(norm, [cfg.dim]) });
    this.lastRun = stats;
    return out.y.data as Float32Array;
  }

  /** The official wrapper: run the padded batch, then keep each row's first mask.sum() positions. */
  async encodeTrimmed(ids: BigInt64Array, mask: BigInt64Array, batch: number): Promise<TextContext[]> {
    return trimToMask(await this.run(ids, mask, batch), mask, batch, this.config.dim);
  }
}
