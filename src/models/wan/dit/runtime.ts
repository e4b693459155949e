/**
 * The Wan2.1 DiT runtime over a converted model folder: one ONNX Runtime session per
 * stage, created once. The stage methods are the building blocks of the dense forward
 * pass here and of the sparse block executor; all token tensors are row-major float32
 * [tokens, width] arrays.
 */
import { join } from 'node:path';
import type { Latent, StepInfo, TextContext } from '../../../core/types.js';
import { createSession, f32Tensor, type ExecutionProvider, type Session, type Tensor } from '../../../runtime/session.js';
import { DEFAULT_ATTENTION_CHUNK, DEFAULT_ROW_CHUNK, headDim, headFeatures, type WanDiTConfig } from './config.js';
import { DiTInputError, DiTModelFolderError, DiTPassAbortedError } from './errors.js';
import { WHOLE, type BlockCall, type ForwardHooks, type PassState, type WholeBlockOutputs } from './hooks.js';
import { STAGE } from './graphs/stages.js';
import { readDiTManifest, type DiTManifest } from './manifest.js';
import { gridTokens, patchGrid, patchify, unpatchify, type PatchGrid } from './patchify.js';
import { ropeTables, type RopeTables } from './rope.js';
import { gatherRows } from './rows.js';
import { timestepSinusoid } from './sinusoid.js';

/** Between blocks: a stopped generation ends its pass here, not after the last block. */
function stopIfAborted(info: StepInfo | undefined, layer: number): void {
  if (info?.signal?.aborted) throw new DiTPassAbortedError(`stopped before block ${layer} of step ${info.step + 1}`);
}

export interface WanDiTLoadOptions {
  /** Intra-op threads per session (default 2, the measured best on the reference CPU). */
  intraOpThreads?: number;
  /** Keep weights mmapped instead of prepacked (faster load, lower RSS, slightly slower runs). */
  mmapWeights?: boolean;
  /**
   * Query rows per attention call (default 1024). onnxruntime's CPU MultiHeadAttention
   * is tiled and never holds the full score matrix, so the chunk bounds the per-call
   * input/output copies, not an N² buffer.
   */
  attentionChunk?: number;
  /**
   * Token rows per call of the row-wise stages (sa_qkv, sa_out, post), so their
   * intermediates (the FFN's [rows, ffn_dim] above all) stay bounded. Default 4096.
   */
  rowChunk?: number;
  /** Execution providers of the stage sessions (default ['cpu']; see src/runtime/session.ts). */
  providers?: readonly ExecutionProvider[];
  /**
   * Low-memory mode (issue 17, like generate.py's --offload_model): a block's sessions are
   * created (weights memory-mapped, no prepacked copy) when the block's turn comes and released
   * when another block's turn comes, so about one block's weights are resident at a time; the
   * small stages (embeddings, attention, head) stay loaded. Same numbers, slower.
   */
  lowMemory?: boolean;
  /**
   * Keep each stage session's memory arena (its largest intermediates stay allocated between
   * calls). Default false: with 4 sessions per block the arenas add up to several times the
   * weights at large token counts (see `freeActivations` in src/runtime/session.ts).
   */
  keepArenas?: boolean;
}

/** A stage that belongs to one block (`block{l}_...`), with its layer; null for the shared stages. */
function blockOf(stage: string): number | null {
  const m = /^block(\d+)_/.exec(stage);
  return m ? Number(m[1]) : null;
}

export interface TimeEmbedding {
  /** time_embedding output [1, D]; the head modulates with it. */
  e: Float32Array;
  /** time_projection output [1, 6, D]; the blocks modulate with it. */
  e0: Float32Array;
}

/** Cross-attention keys and values of one layer for one prompt, each [text_len, D]. */
export interface ContextKV {
  k: Float32Array;
  v: Float32Array;
}

/** Everything the blocks need from one prompt: its embedding and every layer's K/V. */
export interface TextState {
  embed: Float32Array;
  kv: ContextKV[];
}

export interface QKV {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

export interface PostOutputs {
  /** Block output x_out. */
  x: Float32Array;
  /** Raw cross-attention output (after `o`). */
  yCa: Float32Array;
  /** Raw FFN output, ungated. */
  yFfn: Float32Array;
}

export class WanDiT {
  readonly config: WanDiTConfig;
  readonly headDim: number;
  private ropeCache: { grid: PatchGrid; tables: RopeTables } | undefined;

  private constructor(
    readonly modelDir: string,
    readonly manifest: DiTManifest,
    private readonly sessions: Map<string, Session>,
    private readonly options: WanDiTLoadOptions,
  ) {
    this.config = manifest.config;
    this.headDim = headDim(this.config);
  }

  /** Opens a converted folder (see `convertCheckpoint`) and creates every stage session. */
  static async load(modelDir: string, options: WanDiTLoadOptions = {}): Promise<WanDiT> {
    const manifest = readDiTManifest(modelDir);
    const sessions = new Map<string, Session>();
    try {
      for (const [stage, entry] of Object.entries(manifest.stages)) {
        if (options.lowMemory && blockOf(stage) !== null) continue; // created on the block's turn
        sessions.set(stage, await createSession(join(modelDir, entry.file), { intraOpThreads: options.intraOpThreads, mmapWeights: options.mmapWeights, providers: options.providers, keepHalfWeights: manifest.storageDtype === 'bfloat16', freeActivations: options.keepArenas !== true }));
      }
    } catch (e) {
      for (const s of sessions.values()) await s.release();
      throw e;
    }
    return new WanDiT(modelDir, manifest, sessions, options);
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await s.release();
    this.sessions.clear();
  }

  /** Block sessions created in low-memory mode so far (lets tests and benchmarks see the swaps). */
  blockLoads = 0;
  private residentBlock: number | null = null;

  private async session(stage: string): Promise<Session> {
    const s = this.sessions.get(stage);
    if (s) return s;
    const entry = this.manifest.stages[stage];
    const layer = blockOf(stage);
    if (!entry || !this.options.lowMemory || layer === null) throw new DiTModelFolderError(`${this.modelDir}: stage ${stage} is not in the converted folder; convert the checkpoint again`);
    if (this.residentBlock !== null && this.residentBlock !== layer) await this.releaseBlock(this.residentBlock);
    this.residentBlock = layer;
    // Float weights stay mmapped (no prepacked copy); MatMulNBits needs its prepacking for the int8 kernels.
    const created = await createSession(join(this.modelDir, entry.file), { intraOpThreads: this.options.intraOpThreads, mmapWeights: !this.manifest.quantized, providers: this.options.providers, keepHalfWeights: this.manifest.storageDtype === 'bfloat16', freeActivations: this.options.keepArenas !== true });
    this.sessions.set(stage, created);
    this.blockLoads++;
    return created;
  }

  /** Low-memory mode: releases every session of one block. */
  private async releaseBlock(layer: number): Promise<void> {
    for (const [stage, s] of [...this.sessions]) {
      if (blockOf(stage) !== layer) continue;
      this.sessions.delete(stage);
      await s.release();
    }
  }

  /** Whether blocks are loaded for their turn only. */
  get lowMemory(): boolean {
    return this.options.lowMemory === true;
  }

  private async run(stage: string, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
    const out = await (await this.session(stage)).run(feeds);
    const result: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(out)) {
      result[name] = t.data as Float32Array;
      t.dispose();
    }
    return result;
  }

  /**
   * Runs a row-wise stage over row chunks: `rowInputs` are [n, width] matrices split by
   * rows, `shared` tensors go to every call, outputs are stitched back to n rows.
   */
  private async runRows(stage: string, n: number, rowInputs: Record<string, { data: Float32Array; width: number }>, shared: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
    const chunk = this.options.rowChunk ?? DEFAULT_ROW_CHUNK;
    const slice = (start: number, end: number): Record<string, Tensor> => {
      const feeds: Record<string, Tensor> = { ...shared };
      for (const [name, { data, width }] of Object.entries(rowInputs)) feeds[name] = f32Tensor(data.subarray(start * width, end * width), [1, end - start, width]);
      return feeds;
    };
    if (n <= chunk) return this.run(stage, slice(0, n));
    const out: Record<string, Float32Array> = {};
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const part = await this.run(stage, slice(start, end));
      for (const [name, data] of Object.entries(part)) {
        const width = data.length / (end - start);
        (out[name] ??= new Float32Array(n * width)).set(data, start * width);
      }
    }
    return out;
  }

  /** Rows of a [rows, D] token matrix, checking its length. */
  private tokenCount(x: Float32Array, what: string, width = this.config.dim): number {
    const n = x.length / width;
    if (!Number.isInteger(n)) throw new DiTInputError(`${what} has ${x.length} values, not a whole number of ${width}-wide rows`);
    return n;
  }

  // ---- embeddings ----

  /** The last timestep's embedding: the guidance branches of a step share it (one call instead of two). */
  private lastTime: { timestep: number; value: Promise<TimeEmbedding> } | undefined;

  async embedTime(timestep: number): Promise<TimeEmbedding> {
    if (!Number.isFinite(timestep)) throw new DiTInputError(`timestep ${timestep} is not a finite number`);
    if (this.lastTime?.timestep === timestep) return this.lastTime.value;
    const s = timestepSinusoid(timestep, this.config.freqDim);
    const value = this.run(STAGE.timeEmbed, { t_sinusoid: f32Tensor(s, [1, this.config.freqDim]) }).then(({ e, e0 }) => ({ e, e0 }));
    this.lastTime = { timestep, value };
    value.catch(() => {
      if (this.lastTime?.value === value) this.lastTime = undefined;
    });
    return value;
  }

  /** The text context zero-padded to text_len rows (padding rows are attended, unmasked, as in Wan). */
  padContext(context: TextContext): Float32Array {
    const [rows, width] = context.shape;
    const { textDim, textLen } = this.config;
    if (width !== textDim) throw new DiTInputError(`text context is ${width} wide but this DiT expects ${textDim} (the text encoder's width); use the matching text encoder`);
    if (rows > textLen) throw new DiTInputError(`text context has ${rows} rows but this DiT takes at most text_len=${textLen}; truncate the prompt tokens to ${textLen}`);
    if (context.data.length !== rows * width) throw new DiTInputError(`text context data has ${context.data.length} values but shape [${rows}, ${width}] needs ${rows * width}`);
    const padded = new Float32Array(textLen * textDim);
    padded.set(context.data);
    return padded;
  }

  /** [text_len, D] embedding of the zero-padded context. */
  async embedText(context: TextContext): Promise<Float32Array> {
    const padded = this.padContext(context);
    const { context_embed } = await this.run(STAGE.textEmbed, { context: f32Tensor(padded, [1, this.config.textLen, this.config.textDim]) });
    return context_embed;
  }

  /** Cross-attention K (normed) and V of one layer from the text embedding. */
  async contextKV(layer: number, ctxEmbed: Float32Array): Promise<ContextKV> {
    const rows = this.tokenCount(ctxEmbed, 'context embedding');
    const { k_ctx, v_ctx } = await this.run(STAGE.contextKV(layer), { ctx: f32Tensor(ctxEmbed, [1, rows, this.config.dim]) });
    return { k: k_ctx, v: v_ctx };
  }

  /** Text embedding plus every layer's K/V: all the per-prompt work, done once per prompt. */
  async prepareText(context: TextContext): Promise<TextState> {
    const embed = await this.embedText(context);
    const kv: ContextKV[] = [];
    for (let l = 0; l < this.config.numLayers; l++) kv.push(await this.contextKV(l, embed));
    return { embed, kv };
  }

  grid(latent: Latent): PatchGrid {
    return patchGrid(latent.shape, this.config.patchSize, this.config.inDim);
  }

  /** [tokens, C·pt·ph·pw] patch vectors of a latent, with its token grid. */
  patchify(latent: Latent): { patches: Float32Array; grid: PatchGrid } {
    const grid = this.grid(latent);
    return { patches: patchify(latent, this.config.patchSize, grid), grid };
  }

  async embedPatches(patches: Float32Array): Promise<Float32Array> {
    const feat = this.manifest.tokens.patchFeatures;
    const n = this.tokenCount(patches, 'patches', feat);
    const { x } = await this.run(STAGE.patchEmbed, { patches: f32Tensor(patches, [1, n, feat]) });
    return x;
  }

  /** cos/sin tables for a grid (the last grid's tables are kept, since every step reuses them). */
  ropeTables(grid: PatchGrid): RopeTables {
    const c = this.ropeCache;
    if (c && c.grid.frames === grid.frames && c.grid.rows === grid.rows && c.grid.cols === grid.cols) return c.tables;
    const tables = ropeTables(grid, this.headDim);
    this.ropeCache = { grid: { ...grid }, tables };
    return tables;
  }

  // ---- block stages ----

  /**
   * q, k (RMS-normed, rotated) and v for the rows of `x` [n, D]. With `rows`, only those
   * token rows are computed (x and the RoPE tables are gathered here) and the outputs have
   * rows.length rows in that order.
   */
  async selfAttnQKV(layer: number, x: Float32Array, e0: Float32Array, rope: RopeTables, rows?: ArrayLike<number>): Promise<QKV> {
    const D = this.config.dim;
    const n = this.tokenCount(x, 'hidden state');
    if (rope.cos.length !== n * rope.pairs) throw new DiTInputError(`RoPE tables cover ${rope.cos.length / rope.pairs} tokens but the hidden state has ${n}`);
    const xs = rows ? gatherRows(x, D, rows) : x;
    const cos = rows ? gatherRows(rope.cos, rope.pairs, rows) : rope.cos;
    const sin = rows ? gatherRows(rope.sin, rope.pairs, rows) : rope.sin;
    const m = rows ? rows.length : n;
    const { q, k, v } = await this.runRows(
      STAGE.selfAttnQKV(layer), m,
      { x: { data: xs, width: D }, cos: { data: cos, width: rope.pairs }, sin: { data: sin, width: rope.pairs } },
      { e0: f32Tensor(e0, [1, 6, D]) },
    );
    return { q, k, v };
  }

  /** Query rows per attention call. */
  get attentionChunk(): number {
    return this.options.attentionChunk ?? DEFAULT_ATTENTION_CHUNK;
  }

  /** softmax(q·kᵀ/√hd)·v over all keys, run in query chunks so memory stays bounded. */
  async attention(q: Float32Array, k: Float32Array, v: Float32Array): Promise<Float32Array> {
    const D = this.config.dim;
    const nq = this.tokenCount(q, 'attention queries');
    const nk = this.tokenCount(k, 'attention keys');
    if (v.length !== k.length) throw new DiTInputError(`attention values have ${v.length / D} rows but keys have ${nk}`);
    const kt = f32Tensor(k, [1, nk, D]);
    const vt = f32Tensor(v, [1, nk, D]);
    const chunk = this.attentionChunk;
    if (nq <= chunk) return (await this.run(STAGE.attention, { q: f32Tensor(q, [1, nq, D]), k: kt, v: vt })).attn;
    const out = new Float32Array(nq * D);
    for (let start = 0; start < nq; start += chunk) {
      const end = Math.min(nq, start + chunk);
      const { attn } = await this.run(STAGE.attention, { q: f32Tensor(q.subarray(start * D, end * D), [1, end - start, D]), k: kt, v: vt });
      out.set(attn, start * D);
    }
    return out;
  }

  /** y_sa = o(attn), ungated. */
  async selfAttnOut(layer: number, attn: Float32Array): Promise<Float32Array> {
    const n = this.tokenCount(attn, 'attention output');
    return (await this.runRows(STAGE.selfAttnOut(layer), n, { attn: { data: attn, width: this.config.dim } }, {})).y_sa;
  }

  /** Gated self-attention residual, cross-attention and FFN for any set of token rows. */
  async post(layer: number, x: Float32Array, ySa: Float32Array, e0: Float32Array, kv: ContextKV): Promise<PostOutputs> {
    const D = this.config.dim;
    const n = this.tokenCount(x, 'hidden state');
    if (ySa.length !== x.length) throw new DiTInputError(`self-attention output has ${ySa.length / D} rows but the hidden state has ${n}`);
    const L = this.tokenCount(kv.k, 'context keys');
    const r = await this.runRows(
      STAGE.post(layer), n,
      { x: { data: x, width: D }, y_sa: { data: ySa, width: D } },
      { e0: f32Tensor(e0, [1, 6, D]), k_ctx: f32Tensor(kv.k, [1, L, D]), v_ctx: f32Tensor(kv.v, [1, L, D]) },
    );
    return { x: r.x_out, yCa: r.y_ca, yFfn: r.y_ffn };
  }

  /** One dense block: x [n, D] -> block output. */
  async block(layer: number, x: Float32Array, e0: Float32Array, rope: RopeTables, kv: ContextKV): Promise<PostOutputs> {
    return this.wholeBlock(layer, x, e0, rope, kv);
  }

  /** One dense block with every stage output (what hooks see). */
  async wholeBlock(layer: number, x: Float32Array, e0: Float32Array, rope: RopeTables, kv: ContextKV): Promise<WholeBlockOutputs> {
    const { q, k, v } = await this.selfAttnQKV(layer, x, e0, rope);
    const ySa = await this.selfAttnOut(layer, await this.attention(q, k, v));
    return { ...(await this.post(layer, x, ySa, e0, kv)), q, k, v, ySa };
  }

  /** Head output [n, out_dim·pt·ph·pw], before unpatchify. */
  async head(x: Float32Array, e: Float32Array): Promise<Float32Array> {
    const n = this.tokenCount(x, 'hidden state');
    return (await this.run(STAGE.head, { x: f32Tensor(x, [1, n, this.config.dim]), e: f32Tensor(e, [1, this.config.dim]) })).out;
  }

  unpatchify(tokens: Float32Array, grid: PatchGrid): Latent {
    const expected = gridTokens(grid) * headFeatures(this.config);
    if (tokens.length !== expected) throw new DiTInputError(`head output has ${tokens.length} values but grid ${grid.frames}×${grid.rows}×${grid.cols} needs ${expected}`);
    return unpatchify(tokens, this.config.patchSize, grid, this.config.outDim);
  }

  // ---- whole passes ----

  /**
   * The forward pass with the per-prompt work already done (see `prepareText`): the one
   * block loop of the DiT. Without hooks it is the dense model; a cache method's hooks
   * (see hooks.ts) decide per block whether to run it whole, on some token rows, or not.
   */
  async forwardWithText(latent: Latent, timestep: number, text: TextState, hooks?: ForwardHooks, info?: StepInfo): Promise<Latent> {
    const { patches, grid } = this.patchify(latent);
    const { e, e0 } = await this.embedTime(timestep);
    const rope = this.ropeTables(grid);
    const x0 = await this.embedPatches(patches);
    let x = x0;
    if (!hooks) {
      for (let l = 0; l < this.config.numLayers; l++) {
        stopIfAborted(info, l);
        x = (await this.block(l, x, e0, rope, text.kv[l])).x;
      }
    } else {
      const pass: PassState = { info, grid, tokens: gridTokens(grid), e, e0, rope, x0, text };
      const served = hooks.beginPass ? await hooks.beginPass(pass) : null;
      if (served) x = served;
      else
        for (let l = 0; l < this.config.numLayers; l++) {
          stopIfAborted(info, l);
          const call: BlockCall = { pass, layer: l, x, kv: text.kv[l] };
          const d = hooks.decide ? await hooks.decide(call) : WHOLE;
          if (d.kind === 'reuse') x = d.x;
          else if (d.kind === 'rows') {
            const ySa = await d.selfAttention();
            x = d.merge(await this.post(l, gatherRows(x, this.config.dim, d.rows), ySa, e0, call.kv));
          } else {
            const out = await this.wholeBlock(l, x, e0, rope, call.kv);
            await hooks.afterWhole?.(call, out);
            x = out.x;
          }
        }
      hooks.endPass?.(pass, x, served !== null);
    }
    return this.unpatchify(await this.head(x, e), grid);
  }

  /** Dense forward pass: the velocity for `latent` [C, F, H, W] at `timestep` given the text context. */
  async forward(latent: Latent, timestep: number, context: TextContext): Promise<Latent> {
    this.grid(latent); // fail on a bad latent before the text work
    return this.forwardWithText(latent, timestep, await this.prepareText(context));
  }
}
