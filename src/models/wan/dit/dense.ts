/**
 * The DiT as a VelocityModel: `DiTVelocityModel` runs the one block loop with a cache
 * method's hooks (or none), `DenseDiT` is it with no hooks. The text embedding and every layer's cross-attention
 * K/V depend only on the prompt, so they are computed once per context buffer and reused
 * across steps (the buffer is the key: pass the same TextContext object each step, and do
 * not change its contents in place).
 */
import type { Latent, StepInfo, TextContext, VelocityModel } from '../../../core/types.js';
import type { ForwardHooks } from './hooks.js';
import type { TextState, WanDiT } from './runtime.js';

export class DiTVelocityModel implements VelocityModel {
  private readonly textCache = new WeakMap<Float32Array, Promise<TextState>>();

  constructor(
    readonly dit: WanDiT,
    readonly hooks?: ForwardHooks,
  ) {}

  textState(context: TextContext): Promise<TextState> {
    let state = this.textCache.get(context.data);
    if (!state) {
      state = this.dit.prepareText(context);
      this.textCache.set(context.data, state);
      state.catch(() => this.textCache.delete(context.data));
    }
    return state;
  }

  async predict(latent: Latent, timestep: number, context: TextContext, info: StepInfo): Promise<Float32Array> {
    const out = await this.dit.forwardWithText(latent, timestep, await this.textState(context), this.hooks, info);
    return out.data;
  }
}

/** The dense model: the block loop with no hooks. */
export class DenseDiT extends DiTVelocityModel {
  constructor(dit: WanDiT) {
    super(dit);
  }
}
