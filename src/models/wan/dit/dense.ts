/**
 * The dense DiT as a VelocityModel. The text embedding and every layer's cross-attention
 * K/V depend only on the prompt, so they are computed once per context buffer and reused
 * across steps (the buffer is the key: pass the same TextContext object each step, and do
 * not change its contents in place).
 */
import type { Latent, StepInfo, TextContext, VelocityModel } from '../../../pipeline/types.js';
import type { TextState, WanDiT } from './runtime.js';

export class DenseDiT implements VelocityModel {
  private readonly textCache = new WeakMap<Float32Array, Promise<TextState>>();

  constructor(readonly dit: WanDiT) {}

  textState(context: TextContext): Promise<TextState> {
    let state = this.textCache.get(context.data);
    if (!state) {
      state = this.dit.prepareText(context);
      this.textCache.set(context.data, state);
      state.catch(() => this.textCache.delete(context.data));
    }
    return state;
  }

  async predict(latent: Latent, timestep: number, context: TextContext, _info: StepInfo): Promise<Float32Array> {
    const out = await this.dit.forwardWithText(latent, timestep, await this.textState(context));
    return out.data;
  }
}
