import { describe, expect, it } from 'vitest';
import { detectLayout, diffusersToOriginal, originalToDiffusers, type ModelName } from '../../src/weights/keymaps.js';
import { manifestWeights } from './fixtureHelpers.js';

/** diffusers key patterns listed in the architecture reference (§2.2, §3, §4.4). */
const DIFFUSERS_PATTERNS: Record<ModelName, RegExp[]> = {
  dit: [
    /^patch_embedding\.(weight|bias)$/,
    /^condition_embedder\.(time|text)_embedder\.linear_[12]\.(weight|bias)$/,
    /^condition_embedder\.time_proj\.(weight|bias)$/,
    /^blocks\.\d+\.scale_shift_table$/,
    /^blocks\.\d+\.attn[12]\.(to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/,
    /^blocks\.\d+\.attn[12]\.norm_[qk]\.weight$/,
    /^blocks\.\d+\.norm2\.(weight|bias)$/,
    /^blocks\.\d+\.ffn\.(net\.0\.proj|net\.2)\.(weight|bias)$/,
    /^scale_shift_table$/,
    /^proj_out\.(weight|bias)$/,
  ],
  vae: [
    /^(quant_conv|post_quant_conv)\.(weight|bias)$/,
    /^(encoder|decoder)\.(conv_in|conv_out)\.(weight|bias)$/,
    /^(encoder|decoder)\.norm_out\.gamma$/,
    /^(encoder|decoder)\.mid_block\.resnets\.[01]\.(norm[12]\.gamma|conv[12]\.(weight|bias))$/,
    /^(encoder|decoder)\.mid_block\.attentions\.0\.(norm\.gamma|(to_qkv|proj)\.(weight|bias))$/,
    /^encoder\.down_blocks\.\d+\.(norm[12]\.gamma|(conv[12]|conv_shortcut|resample\.1|time_conv)\.(weight|bias))$/,
    /^decoder\.up_blocks\.[0-3]\.resnets\.[0-2]\.(norm[12]\.gamma|(conv[12]|conv_shortcut)\.(weight|bias))$/,
    /^decoder\.up_blocks\.[0-2]\.upsamplers\.0\.(resample\.1|time_conv)\.(weight|bias)$/,
  ],
  t5: [
    /^shared\.weight$/,
    /^encoder\.final_layer_norm\.weight$/,
    /^encoder\.block\.\d+\.layer\.0\.(layer_norm|SelfAttention\.[qkvo]|SelfAttention\.relative_attention_bias)\.weight$/,
    /^encoder\.block\.\d+\.layer\.1\.(layer_norm|DenseReluDense\.(wi_0|wi_1|wo))\.weight$/,
  ],
};

/** Pairs the reference tables spell out (original, diffusers). */
const REFERENCE_PAIRS: Record<ModelName, Array<[string, string]>> = {
  dit: [
    ['time_embedding.0.weight', 'condition_embedder.time_embedder.linear_1.weight'],
    ['time_embedding.2.bias', 'condition_embedder.time_embedder.linear_2.bias'],
    ['text_embedding.0.weight', 'condition_embedder.text_embedder.linear_1.weight'],
    ['text_embedding.2.weight', 'condition_embedder.text_embedder.linear_2.weight'],
    ['time_projection.1.weight', 'condition_embedder.time_proj.weight'],
    ['head.modulation', 'scale_shift_table'],
    ['head.head.weight', 'proj_out.weight'],
    ['blocks.29.modulation', 'blocks.29.scale_shift_table'],
    ['blocks.7.ffn.0.weight', 'blocks.7.ffn.net.0.proj.weight'],
    ['blocks.7.ffn.2.bias', 'blocks.7.ffn.net.2.bias'],
    ['blocks.12.norm3.weight', 'blocks.12.norm2.weight'],
    ['blocks.12.norm3.bias', 'blocks.12.norm2.bias'],
    ['blocks.0.self_attn.o.weight', 'blocks.0.attn1.to_out.0.weight'],
    ['blocks.0.self_attn.q.bias', 'blocks.0.attn1.to_q.bias'],
    ['blocks.0.self_attn.norm_k.weight', 'blocks.0.attn1.norm_k.weight'],
    ['blocks.39.cross_attn.v.weight', 'blocks.39.attn2.to_v.weight'],
    ['blocks.39.cross_attn.norm_q.weight', 'blocks.39.attn2.norm_q.weight'],
  ],
  vae: [
    ['decoder.conv1.weight', 'decoder.conv_in.weight'],
    ['decoder.middle.0.residual.0.gamma', 'decoder.mid_block.resnets.0.norm1.gamma'],
    ['decoder.middle.2.residual.6.bias', 'decoder.mid_block.resnets.1.conv2.bias'],
    ['decoder.middle.1.to_qkv.weight', 'decoder.mid_block.attentions.0.to_qkv.weight'],
    ['decoder.upsamples.9.residual.2.weight', 'decoder.up_blocks.2.resnets.1.conv1.weight'],
    ['decoder.upsamples.14.residual.3.gamma', 'decoder.up_blocks.3.resnets.2.norm2.gamma'],
    ['decoder.upsamples.4.shortcut.weight', 'decoder.up_blocks.1.resnets.0.conv_shortcut.weight'],
    ['decoder.upsamples.3.time_conv.weight', 'decoder.up_blocks.0.upsamplers.0.time_conv.weight'],
    ['decoder.upsamples.7.resample.1.bias', 'decoder.up_blocks.1.upsamplers.0.resample.1.bias'],
    ['decoder.upsamples.11.resample.1.weight', 'decoder.up_blocks.2.upsamplers.0.resample.1.weight'],
    ['decoder.head.0.gamma', 'decoder.norm_out.gamma'],
    ['decoder.head.2.weight', 'decoder.conv_out.weight'],
    ['conv1.weight', 'quant_conv.weight'],
    ['conv2.bias', 'post_quant_conv.bias'],
    ['encoder.conv1.weight', 'encoder.conv_in.weight'],
    ['encoder.downsamples.3.shortcut.weight', 'encoder.down_blocks.3.conv_shortcut.weight'],
    ['encoder.downsamples.5.time_conv.weight', 'encoder.down_blocks.5.time_conv.weight'],
    ['encoder.downsamples.0.residual.0.gamma', 'encoder.down_blocks.0.norm1.gamma'],
    ['encoder.head.2.bias', 'encoder.conv_out.bias'],
  ],
  t5: [
    ['token_embedding.weight', 'shared.weight'],
    ['blocks.3.norm1.weight', 'encoder.block.3.layer.0.layer_norm.weight'],
    ['blocks.3.attn.o.weight', 'encoder.block.3.layer.0.SelfAttention.o.weight'],
    ['blocks.23.pos_embedding.embedding.weight', 'encoder.block.23.layer.0.SelfAttention.relative_attention_bias.weight'],
    ['blocks.3.norm2.weight', 'encoder.block.3.layer.1.layer_norm.weight'],
    ['blocks.3.ffn.gate.0.weight', 'encoder.block.3.layer.1.DenseReluDense.wi_0.weight'],
    ['blocks.3.ffn.fc1.weight', 'encoder.block.3.layer.1.DenseReluDense.wi_1.weight'],
    ['blocks.3.ffn.fc2.weight', 'encoder.block.3.layer.1.DenseReluDense.wo.weight'],
    ['norm.weight', 'encoder.final_layer_norm.weight'],
  ],
};

/** The 1.3B DiT key list of the reference (§2.1): 15 top-level + 27 per block × 30. */
function releaseDitKeys(layers: number): string[] {
  const keys = ['patch_embedding.weight', 'patch_embedding.bias', 'head.modulation', 'head.head.weight', 'head.head.bias'];
  for (const m of ['text_embedding.0', 'text_embedding.2', 'time_embedding.0', 'time_embedding.2', 'time_projection.1']) {
    keys.push(`${m}.weight`, `${m}.bias`);
  }
  for (let i = 0; i < layers; i++) {
    keys.push(`blocks.${i}.modulation`, `blocks.${i}.norm3.weight`, `blocks.${i}.norm3.bias`);
    for (const a of ['self_attn', 'cross_attn']) {
      for (const p of ['q', 'k', 'v', 'o']) keys.push(`blocks.${i}.${a}.${p}.weight`, `blocks.${i}.${a}.${p}.bias`);
      keys.push(`blocks.${i}.${a}.norm_q.weight`, `blocks.${i}.${a}.norm_k.weight`);
    }
    keys.push(`blocks.${i}.ffn.0.weight`, `blocks.${i}.ffn.0.bias`, `blocks.${i}.ffn.2.weight`, `blocks.${i}.ffn.2.bias`);
  }
  return keys;
}

const MODELS: ModelName[] = ['dit', 'vae', 't5'];

describe('key maps', () => {
  for (const model of MODELS) {
    const fixtureKeys = Object.keys(manifestWeights(model).keys);

    it(`${model}: fixture keys map to distinct reference-shaped diffusers names and back`, () => {
      const mapped = fixtureKeys.map((k) => originalToDiffusers(model, k));
      expect(new Set(mapped).size).toBe(fixtureKeys.length);
      for (const d of mapped) {
        expect(DIFFUSERS_PATTERNS[model].some((re) => re.test(d)), `${d} is not a ${model} diffusers name`).toBe(true);
      }
      expect(mapped.map((d) => diffusersToOriginal(model, d))).toEqual(fixtureKeys);
    });

    it(`${model}: the reference table pairs map both ways`, () => {
      for (const [original, diffusers] of REFERENCE_PAIRS[model]) {
        expect(originalToDiffusers(model, original)).toBe(diffusers);
        expect(diffusersToOriginal(model, diffusers)).toBe(original);
      }
    });

    it(`${model}: layouts are detected from fixture keys in both namings`, () => {
      expect(detectLayout(fixtureKeys)).toEqual({ model, naming: 'original' });
      expect(detectLayout(fixtureKeys.map((k) => originalToDiffusers(model, k)))).toEqual({ model, naming: 'diffusers' });
    });
  }

  it('dit: the full 1.3B key list (825 keys) round-trips', () => {
    const keys = releaseDitKeys(30);
    expect(keys).toHaveLength(825);
    const mapped = keys.map((k) => originalToDiffusers('dit', k));
    expect(new Set(mapped).size).toBe(825);
    expect(mapped.map((d) => diffusersToOriginal('dit', d))).toEqual(keys);
  });

  it('t5: the tied embedding alias maps to the same original key; unknown keys pass through', () => {
    expect(diffusersToOriginal('t5', 'encoder.embed_tokens.weight')).toBe('token_embedding.weight');
    expect(diffusersToOriginal('dit', 'not.a.key')).toBe('not.a.key');
    expect(originalToDiffusers('vae', 'not.a.key')).toBe('not.a.key');
    expect(detectLayout(['foo', 'bar'])).toBeUndefined();
  });
});
