/**
 * ONNX graphs for streaming the Wan2.1 VAE decoder one latent frame at a time.
 *
 * Two graphs share one cache layout (see reference §3.4):
 * - `first`: latent frame 0. Every k_t=3 causal conv pads 2 zero frames in front, the
 *   upsample3d layers skip `time_conv` (the original's 'Rep' marker) so the frame passes
 *   through un-duplicated, and the chunk yields 1 RGB frame.
 * - `next`: every later latent frame. Each k_t=3 causal conv reads its cache (the last 2
 *   frames of its input so far, zero-filled where there were fewer) in front of its input
 *   and returns the last 2 frames of that concatenation as the new cache; 4 RGB frames.
 * The first graph returns the caches in the same 2-frame form (a 1-frame history gets one
 * zero frame in front, as the original pads it) and zero caches for the `time_conv`s, which
 * is exactly what the original's second chunk sees ('Rep' → zero padding).
 *
 * H and W are dynamic, so one pair of graphs decodes any frame size and any tile.
 */
import { GraphBuilder, type Value } from '../../../onnx/builder.js';
import { onnx } from '../../../onnx/proto.js';
import type { DecoderLayer, DecoderPlan, ShapeLookup, VaeDecoderConfig } from './config.js';
import { VaeWeightsError } from './config.js';

export interface VaeTensorSource extends ShapeLookup {
  readF32(key: string): Promise<Float32Array>;
}

export type DecoderGraphKind = 'first' | 'next';

/** One causal-conv cache: 2 frames of the conv's input at `1/scale` of the output size. */
export interface CacheSlot {
  /** Graph input name (next graph); the output is `${name}_out` in both graphs. */
  name: string;
  /** Module whose input it caches, e.g. `decoder.upsamples.3.time_conv`. */
  module: string;
  channels: number;
  /** Spatial size relative to the latent frame (1, 2, 4, ...). */
  spatialFactor: number;
}

export interface DecoderGraphOptions {
  /** Also output `z_unscaled` and `conv2_out` (for parity checks). */
  exposeIntermediates?: boolean;
  storeAs?: 'float32' | 'float16';
}

const CACHE_FRAMES = 2;

/** Builds one of the two decoder graphs; the cache slots come back in graph order. */
export async function buildDecoderGraph(
  source: VaeTensorSource,
  plan: DecoderPlan,
  config: VaeDecoderConfig,
  kind: DecoderGraphKind,
  options: DecoderGraphOptions = {},
): Promise<{ graph: GraphBuilder; caches: CacheSlot[] }> {
  const b = new DecoderGraphBuilder(source, kind, options);
  await b.build(plan, config);
  return { graph: b.g, caches: b.caches };
}

const dimName = (axis: 'h' | 'w', factor: number): string => (factor === 1 ? axis : `${axis}_x${factor}`);

class DecoderGraphBuilder {
  readonly g: GraphBuilder;
  readonly caches: CacheSlot[] = [];
  /** Frames per chunk at the current point of the graph (static: 1 in `first`, 1/2/4 in `next`). */
  private frames = 1;
  /** Spatial factor relative to the latent at the current point of the graph. */
  private factor = 1;

  constructor(private readonly source: VaeTensorSource, private readonly kind: DecoderGraphKind, private readonly options: DecoderGraphOptions) {
    this.g = new GraphBuilder(`wan_vae_decoder_${kind}`);
  }

  private async tensor(key: string, expect?: number[]): Promise<{ data: Float32Array; shape: number[] }> {
    if (!this.source.has(key)) throw new VaeWeightsError(`VAE weights: missing tensor "${key}".`);
    const shape = this.source.shape(key);
    if (expect && (shape.length !== expect.length || shape.some((d, i) => d !== expect[i]))) {
      throw new VaeWeightsError(`VAE weights: "${key}" has shape [${shape}], expected [${expect}].`);
    }
    return { data: await this.source.readF32(key), shape };
  }

  private async weight(key: string, reshape?: number[]): Promise<Value> {
    const t = await this.tensor(key);
    return this.g.weight(key, reshape ?? t.shape, t.data, { storeAs: this.options.storeAs });
  }

  async build(plan: DecoderPlan, config: VaeDecoderConfig): Promise<void> {
    const g = this.g;
    const z = g.input('z', 'float32', [1, plan.zDim, 1, 'h', 'w']);
    if (config.latentMean.length !== plan.zDim || config.latentStd.length !== plan.zDim) {
      throw new VaeWeightsError(`VAE config: latent mean/std need ${plan.zDim} values (z_dim of the weights).`);
    }
    // WanVAE.decode computes z / (1/std) + mean with the float32 reciprocal; do the same division.
    const invStd = g.constFloat(config.latentStd.map((s) => Math.fround(1 / Math.fround(s))), [1, plan.zDim, 1, 1, 1]);
    const mean = g.constFloat(config.latentMean, [1, plan.zDim, 1, 1, 1]);
    const unscaled = g.add(g.div(z, invStd), mean);
    const conv2 = g.conv(unscaled, await this.weight('conv2.weight'), await this.weight('conv2.bias'), { kernel: [1, 1, 1] });
    if (this.options.exposeIntermediates) {
      g.output(unscaled, 'z_unscaled', 'float32', [1, plan.zDim, 1, 'h', 'w']);
      g.output(conv2, 'conv2_out', 'float32', [1, plan.zDim, 1, 'h', 'w']);
    }

    let x = await this.causalConv(conv2, 'decoder.conv1', [3, 3, 3]);
    for (const layer of plan.middle) x = await this.layer(x, layer);
    for (const layer of plan.upsamples) x = await this.layer(x, layer);
    x = g.silu(await this.rmsNorm(x, 'decoder.head.0.gamma', plan.headChannels));
    x = await this.causalConv(x, 'decoder.head.2', [3, 3, 3]);
    g.output(x, 'frames', 'float32', [1, 3, this.frames, dimName('h', this.factor), dimName('w', this.factor)]);
  }

  private async layer(x: Value, layer: DecoderLayer): Promise<Value> {
    switch (layer.kind) {
      case 'residual': return this.residual(x, layer.prefix, layer.inChannels, layer.outChannels, layer.shortcut);
      case 'attention': return this.attention(x, layer.prefix, layer.channels);
      case 'upsample3d': return this.upsample(x, layer.prefix, layer.channels, true);
      case 'upsample2d': return this.upsample(x, layer.prefix, layer.channels, false);
    }
  }

  /** RMS_norm: F.normalize over channels (x / max(‖x‖₂, 1e-12)) · √C · gamma (+ bias when stored). */
  private async rmsNorm(x: Value, gammaKey: string, channels: number): Promise<Value> {
    const g = this.g;
    const gamma = await this.tensor(gammaKey);
    if (gamma.data.length !== channels) throw new VaeWeightsError(`VAE weights: "${gammaKey}" has ${gamma.data.length} values, expected ${channels}.`);
    const scaled = gamma.data.map((v) => v * Math.sqrt(channels));
    const norm = g.op1('Max', [g.op1('ReduceL2', [x, g.constInt64([1])], { keepdims: 1 }), g.constFloat([1e-12], [])]);
    let y = g.mul(g.div(x, norm), g.weight(`${gammaKey}__x_sqrtC`, [1, channels, 1, 1, 1], Float32Array.from(scaled)));
    const biasKey = gammaKey.replace(/gamma$/, 'bias');
    if (this.source.has(biasKey)) y = g.add(y, await this.weight(biasKey, [1, channels, 1, 1, 1]));
    return y;
  }

  /**
   * CausalConv3d with temporal kernel 3 (time padding all in front) and spatial padding k/2.
   * The first graph pads 2 zero frames; the next graph prepends the cache.
   */
  private async causalConv(x: Value, prefix: string, kernel: [number, number, number]): Promise<Value> {
    const g = this.g;
    const w = await this.weight(`${prefix}.weight`);
    const bias = await this.weight(`${prefix}.bias`);
    const channels = this.source.shape(`${prefix}.weight`)[1];
    const [kt, kh, kw] = kernel;
    if (kt !== CACHE_FRAMES + 1) throw new Error(`causalConv ${prefix}: only temporal kernel 3 is cached`);
    const ph = (kh - 1) / 2;
    const pw = (kw - 1) / 2;
    const slot: CacheSlot = { name: `cache_${this.caches.length}`, module: prefix, channels, spatialFactor: this.factor };
    this.caches.push(slot);
    const cacheDims = [1, channels, CACHE_FRAMES, dimName('h', this.factor), dimName('w', this.factor)];
    if (this.kind === 'first') {
      // History so far is this one frame; store it as [zero, frame] like the original's 1-frame cache.
      g.output(g.pad(x, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), `${slot.name}_out`, 'float32', cacheDims);
      return g.conv(x, w, bias, { kernel, pads: [2, ph, pw, 0, ph, pw] });
    }
    const cache = g.input(slot.name, 'float32', cacheDims);
    const joined = g.concat([cache, x], 2);
    g.output(g.slice(joined, [-CACHE_FRAMES], [this.frames + CACHE_FRAMES], [2]), `${slot.name}_out`, 'float32', cacheDims);
    return g.conv(joined, w, bias, { kernel, pads: [0, ph, pw, 0, ph, pw] });
  }

  private async residual(x: Value, prefix: string, inC: number, outC: number, shortcut: boolean): Promise<Value> {
    const g = this.g;
    const h = shortcut ? g.conv(x, await this.weight(`${prefix}.shortcut.weight`), await this.weight(`${prefix}.shortcut.bias`), { kernel: [1, 1, 1] }) : x;
    if (!shortcut && inC !== outC) throw new VaeWeightsError(`VAE weights: ${prefix} changes channels ${inC}→${outC} but has no shortcut conv.`);
    let y = g.silu(await this.rmsNorm(x, `${prefix}.residual.0.gamma`, inC));
    y = await this.causalConv(y, `${prefix}.residual.2`, [3, 3, 3]);
    y = g.silu(await this.rmsNorm(y, `${prefix}.residual.3.gamma`, outC));
    y = await this.causalConv(y, `${prefix}.residual.6`, [3, 3, 3]);
    return g.add(y, h);
  }

  /** Single-head self-attention over the h·w positions of each frame (no temporal mixing). */
  private async attention(x: Value, prefix: string, channels: number): Promise<Value> {
    const g = this.g;
    if (this.frames !== 1) throw new Error(`attention ${prefix}: expected 1 frame per chunk at the middle block`);
    const n = await this.rmsNorm(x, `${prefix}.norm.gamma`, channels);
    const tokens = g.transpose(g.reshape(n, [1, channels, -1]), [0, 2, 1]); // [1, hw, C]
    const qkvW = await this.tensor(`${prefix}.to_qkv.weight`, [3 * channels, channels, 1, 1]);
    const projW = await this.tensor(`${prefix}.proj.weight`, [channels, channels, 1, 1]);
    const qkv = g.linear(tokens, g.weight(`${prefix}.to_qkv.weight__T`, [channels, 3 * channels], transpose2d(qkvW.data, 3 * channels, channels)), await this.weight(`${prefix}.to_qkv.bias`));
    const [q, k, v] = g.split(qkv, 3, 2);
    const attended = g.multiHeadAttention(q, k, v, 1, 1 / Math.sqrt(channels));
    const projected = g.linear(attended, g.weight(`${prefix}.proj.weight__T`, [channels, channels], transpose2d(projW.data, channels, channels)), await this.weight(`${prefix}.proj.bias`));
    const back = g.op1('Reshape', [g.transpose(projected, [0, 2, 1]), g.shape(x)]);
    return g.add(back, x);
  }

  /**
   * Resample upsample2d / upsample3d. The temporal step (3d only, not in the first chunk):
   * `time_conv` gives 2C channels; frame 2j takes channels [0,C) of time j, frame 2j+1 takes
   * [C,2C). Then nearest ×2 in H and W and a 3×3 conv to C/2 channels, per frame.
   */
  private async upsample(x: Value, prefix: string, channels: number, temporal: boolean): Promise<Value> {
    const g = this.g;
    let y = x;
    if (temporal) {
      if (this.kind === 'first') {
        // 'Rep': time_conv is skipped now and its first real run sees zero padding.
        const slot: CacheSlot = { name: `cache_${this.caches.length}`, module: `${prefix}.time_conv`, channels, spatialFactor: this.factor };
        this.caches.push(slot);
        const shape = g.mul(g.shape(x), g.constInt64([1, 1, CACHE_FRAMES, 1, 1]));
        const zeros = g.op1('ConstantOfShape', [shape], { value: onnx.TensorProto.create({ dims: [1], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0] }) });
        g.output(zeros, `${slot.name}_out`, 'float32', [1, channels, CACHE_FRAMES, dimName('h', this.factor), dimName('w', this.factor)]);
      } else {
        const t = await this.causalConv(x, `${prefix}.time_conv`, [3, 1, 1]);
        const [even, odd] = g.split(t, 2, 1);
        const frames: Value[] = [];
        for (let j = 0; j < this.frames; j++) {
          frames.push(g.slice(even, [j], [j + 1], [2]), g.slice(odd, [j], [j + 1], [2]));
        }
        y = g.concat(frames, 2);
        this.frames *= 2;
      }
    }
    // nearest-exact for an integer ×2: src = floor((dst + 0.5)/2) = floor(dst/2), i.e. every pixel
    // repeated 2×2. As a broadcast copy (Expand over two new unit axes), not Resize: the same values,
    // and onnxruntime's 5-D Resize took about a sixth of the decoder's time.
    const doubled = g.mul(g.shape(y), g.constInt64([1, 1, 1, 2, 2]));
    y = g.op1('Reshape', [g.op1('Expand', [g.unsqueeze(y, [4, 6]), g.constInt64([1, 1, 1, 1, 2, 1, 2])]), doubled]);
    this.factor *= 2;
    const w = await this.tensor(`${prefix}.resample.1.weight`, [channels / 2, channels, 3, 3]);
    const conv = g.weight(`${prefix}.resample.1.weight`, [channels / 2, channels, 1, 3, 3], w.data, { storeAs: this.options.storeAs });
    return g.conv(y, conv, await this.weight(`${prefix}.resample.1.bias`), { kernel: [1, 3, 3], pads: [0, 1, 1, 0, 1, 1] });
  }
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

