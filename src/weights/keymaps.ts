/**
 * Key names of the three Wan2.1 checkpoints in the original release (WanModel, WanVAE_,
 * T5Encoder) and in the diffusers ecosystem (WanTransformer3DModel, AutoencoderKLWan,
 * transformers' UMT5EncoderModel). Keys a table does not cover pass through unchanged,
 * so callers can map whole key lists and then check them against what they expect.
 */

export type ModelName = 'dit' | 'vae' | 't5';
export type KeyNaming = 'original' | 'diffusers';

// ---------------------------------------------------------------- DiT

/**
 * diffusers' converter applies these as substring replacements, in this order, to every key.
 * The order matters: `head.modulation` must go before the bare `modulation`, and the
 * norm2/norm3 swap goes through a placeholder.
 */
const DIT_ORIGINAL_TO_DIFFUSERS: ReadonlyArray<readonly [string, string]> = [
  ['time_embedding.0', 'condition_embedder.time_embedder.linear_1'],
  ['time_embedding.2', 'condition_embedder.time_embedder.linear_2'],
  ['text_embedding.0', 'condition_embedder.text_embedder.linear_1'],
  ['text_embedding.2', 'condition_embedder.text_embedder.linear_2'],
  ['time_projection.1', 'condition_embedder.time_proj'],
  ['head.modulation', 'scale_shift_table'],
  ['head.head', 'proj_out'],
  ['modulation', 'scale_shift_table'],
  ['ffn.0', 'ffn.net.0.proj'],
  ['ffn.2', 'ffn.net.2'],
  ['norm2', 'norm__placeholder'],
  ['norm3', 'norm2'],
  ['norm__placeholder', 'norm3'],
  ['self_attn.q', 'attn1.to_q'],
  ['self_attn.k', 'attn1.to_k'],
  ['self_attn.v', 'attn1.to_v'],
  ['self_attn.o', 'attn1.to_out.0'],
  ['self_attn.norm_q', 'attn1.norm_q'],
  ['self_attn.norm_k', 'attn1.norm_k'],
  ['cross_attn.q', 'attn2.to_q'],
  ['cross_attn.k', 'attn2.to_k'],
  ['cross_attn.v', 'attn2.to_v'],
  ['cross_attn.o', 'attn2.to_out.0'],
  ['cross_attn.norm_q', 'attn2.norm_q'],
  ['cross_attn.norm_k', 'attn2.norm_k'],
];

function ditOriginalToDiffusers(key: string): string {
  let k = key;
  for (const [from, to] of DIT_ORIGINAL_TO_DIFFUSERS) k = k.split(from).join(to);
  return k;
}

/** The inverse is written per dotted segment, so a name can never be rewritten twice. */
const DIT_DIFFUSERS_TO_ORIGINAL: ReadonlyArray<readonly [RegExp, string]> = [
  [/^condition_embedder\.time_embedder\.linear_1\./, 'time_embedding.0.'],
  [/^condition_embedder\.time_embedder\.linear_2\./, 'time_embedding.2.'],
  [/^condition_embedder\.text_embedder\.linear_1\./, 'text_embedding.0.'],
  [/^condition_embedder\.text_embedder\.linear_2\./, 'text_embedding.2.'],
  [/^condition_embedder\.time_proj\./, 'time_projection.1.'],
  [/^scale_shift_table$/, 'head.modulation'],
  [/^proj_out\./, 'head.head.'],
  [/^(blocks\.\d+)\.scale_shift_table$/, '$1.modulation'],
  [/^(blocks\.\d+)\.ffn\.net\.0\.proj\./, '$1.ffn.0.'],
  [/^(blocks\.\d+)\.ffn\.net\.2\./, '$1.ffn.2.'],
  [/^(blocks\.\d+)\.norm2\./, '$1.norm3.'],
  [/^(blocks\.\d+)\.norm3\./, '$1.norm2.'],
  [/^(blocks\.\d+)\.attn1\.to_out\.0\./, '$1.self_attn.o.'],
  [/^(blocks\.\d+)\.attn1\.to_([qkv])\./, '$1.self_attn.$2.'],
  [/^(blocks\.\d+)\.attn1\.norm_([qk])\./, '$1.self_attn.norm_$2.'],
  [/^(blocks\.\d+)\.attn2\.to_out\.0\./, '$1.cross_attn.o.'],
  [/^(blocks\.\d+)\.attn2\.to_([qkv])\./, '$1.cross_attn.$2.'],
  [/^(blocks\.\d+)\.attn2\.norm_([qk])\./, '$1.cross_attn.norm_$2.'],
];

function firstRule(key: string, rules: ReadonlyArray<readonly [RegExp, string]>): string {
  for (const [re, to] of rules) if (re.test(key)) return key.replace(re, to);
  return key;
}

// ---------------------------------------------------------------- VAE

/** Residual block children: original Sequential index ↔ diffusers attribute. */
const RESIDUAL_PARTS: ReadonlyArray<readonly [string, string]> = [
  ['residual.0.gamma', 'norm1.gamma'],
  ['residual.2.', 'conv1.'],
  ['residual.3.gamma', 'norm2.gamma'],
  ['residual.6.', 'conv2.'],
  ['shortcut.', 'conv_shortcut.'],
];

function residualToDiffusers(rest: string): string | undefined {
  for (const [o, d] of RESIDUAL_PARTS) if (rest.startsWith(o)) return d + rest.slice(o.length);
  return undefined;
}
function residualToOriginal(rest: string): string | undefined {
  for (const [o, d] of RESIDUAL_PARTS) if (rest.startsWith(d)) return o + rest.slice(d.length);
  return undefined;
}

/**
 * The decoder's flat `upsamples` list holds, per resolution level, num_res_blocks+1 = 3
 * residual blocks followed by one upsampler (none after the last level); diffusers nests it.
 */
const DECODER_BLOCKS_PER_LEVEL = 4;
const DECODER_RESNETS_PER_LEVEL = 3;

function vaeOriginalToDiffusers(key: string): string {
  let m: RegExpMatchArray | null;
  if ((m = key.match(/^conv1\.(.*)$/))) return `quant_conv.${m[1]}`;
  if ((m = key.match(/^conv2\.(.*)$/))) return `post_quant_conv.${m[1]}`;
  if ((m = key.match(/^(encoder|decoder)\.conv1\.(.*)$/))) return `${m[1]}.conv_in.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.head\.0\.(.*)$/))) return `${m[1]}.norm_out.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.head\.2\.(.*)$/))) return `${m[1]}.conv_out.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.middle\.1\.(.*)$/))) return `${m[1]}.mid_block.attentions.0.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.middle\.([02])\.(.*)$/))) {
    const part = residualToDiffusers(m[3]!);
    if (part) return `${m[1]}.mid_block.resnets.${m[2] === '0' ? 0 : 1}.${part}`;
  }
  if ((m = key.match(/^encoder\.downsamples\.(\d+)\.(.*)$/))) {
    return `encoder.down_blocks.${m[1]}.${residualToDiffusers(m[2]!) ?? m[2]}`;
  }
  if ((m = key.match(/^decoder\.upsamples\.(\d+)\.(.*)$/))) {
    const n = Number(m[1]);
    const level = Math.floor(n / DECODER_BLOCKS_PER_LEVEL);
    const within = n % DECODER_BLOCKS_PER_LEVEL;
    if (within === DECODER_RESNETS_PER_LEVEL) return `decoder.up_blocks.${level}.upsamplers.0.${m[2]}`;
    const part = residualToDiffusers(m[2]!);
    if (part) return `decoder.up_blocks.${level}.resnets.${within}.${part}`;
  }
  return key;
}

function vaeDiffusersToOriginal(key: string): string {
  let m: RegExpMatchArray | null;
  if ((m = key.match(/^quant_conv\.(.*)$/))) return `conv1.${m[1]}`;
  if ((m = key.match(/^post_quant_conv\.(.*)$/))) return `conv2.${m[1]}`;
  if ((m = key.match(/^(encoder|decoder)\.conv_in\.(.*)$/))) return `${m[1]}.conv1.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.norm_out\.(.*)$/))) return `${m[1]}.head.0.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.conv_out\.(.*)$/))) return `${m[1]}.head.2.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.mid_block\.attentions\.0\.(.*)$/))) return `${m[1]}.middle.1.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.mid_block\.resnets\.([01])\.(.*)$/))) {
    const part = residualToOriginal(m[3]!);
    if (part) return `${m[1]}.middle.${m[2] === '0' ? 0 : 2}.${part}`;
  }
  if ((m = key.match(/^encoder\.down_blocks\.(\d+)\.(.*)$/))) {
    return `encoder.downsamples.${m[1]}.${residualToOriginal(m[2]!) ?? m[2]}`;
  }
  if ((m = key.match(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.(.*)$/))) {
    return `decoder.upsamples.${Number(m[1]) * DECODER_BLOCKS_PER_LEVEL + DECODER_RESNETS_PER_LEVEL}.${m[2]}`;
  }
  if ((m = key.match(/^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.*)$/))) {
    const part = residualToOriginal(m[3]!);
    if (part && Number(m[2]) < DECODER_RESNETS_PER_LEVEL) {
      return `decoder.upsamples.${Number(m[1]) * DECODER_BLOCKS_PER_LEVEL + Number(m[2])}.${part}`;
    }
  }
  return key;
}

// ---------------------------------------------------------------- umT5 encoder

/** Wan's T5Encoder names ↔ transformers' UMT5EncoderModel names (diffusers loads the latter). */
const T5_BLOCK_PARTS: ReadonlyArray<readonly [string, string]> = [
  ['norm1.weight', 'layer.0.layer_norm.weight'],
  ['attn.q.weight', 'layer.0.SelfAttention.q.weight'],
  ['attn.k.weight', 'layer.0.SelfAttention.k.weight'],
  ['attn.v.weight', 'layer.0.SelfAttention.v.weight'],
  ['attn.o.weight', 'layer.0.SelfAttention.o.weight'],
  ['pos_embedding.embedding.weight', 'layer.0.SelfAttention.relative_attention_bias.weight'],
  ['norm2.weight', 'layer.1.layer_norm.weight'],
  ['ffn.gate.0.weight', 'layer.1.DenseReluDense.wi_0.weight'],
  ['ffn.fc1.weight', 'layer.1.DenseReluDense.wi_1.weight'],
  ['ffn.fc2.weight', 'layer.1.DenseReluDense.wo.weight'],
];

function t5OriginalToDiffusers(key: string): string {
  if (key === 'token_embedding.weight') return 'shared.weight';
  if (key === 'norm.weight') return 'encoder.final_layer_norm.weight';
  const m = key.match(/^blocks\.(\d+)\.(.*)$/);
  if (m) for (const [o, d] of T5_BLOCK_PARTS) if (m[2] === o) return `encoder.block.${m[1]}.${d}`;
  return key;
}

function t5DiffusersToOriginal(key: string): string {
  // UMT5EncoderModel ties the two embedding names to one tensor.
  if (key === 'shared.weight' || key === 'encoder.embed_tokens.weight') return 'token_embedding.weight';
  if (key === 'encoder.final_layer_norm.weight') return 'norm.weight';
  const m = key.match(/^encoder\.block\.(\d+)\.(.*)$/);
  if (m) for (const [o, d] of T5_BLOCK_PARTS) if (m[2] === d) return `blocks.${m[1]}.${o}`;
  return key;
}

// ---------------------------------------------------------------- public API

/** Original Wan2.1 name → diffusers / transformers name. */
export function originalToDiffusers(model: ModelName, key: string): string {
  switch (model) {
    case 'dit':
      return ditOriginalToDiffusers(key);
    case 'vae':
      return vaeOriginalToDiffusers(key);
    case 't5':
      return t5OriginalToDiffusers(key);
  }
}

/** diffusers / transformers name → original Wan2.1 name (the names the model builders use). */
export function diffusersToOriginal(model: ModelName, key: string): string {
  switch (model) {
    case 'dit':
      return firstRule(key, DIT_DIFFUSERS_TO_ORIGINAL);
    case 'vae':
      return vaeDiffusersToOriginal(key);
    case 't5':
      return t5DiffusersToOriginal(key);
  }
}

export interface KeyLayout {
  model: ModelName;
  naming: KeyNaming;
}

/** Marker keys that exist in every checkpoint of that model and naming (any size). */
const LAYOUT_MARKERS: ReadonlyArray<readonly [KeyLayout, readonly string[]]> = [
  [{ model: 'dit', naming: 'original' }, ['patch_embedding.weight', 'head.modulation', 'blocks.0.self_attn.q.weight']],
  [{ model: 'dit', naming: 'diffusers' }, ['patch_embedding.weight', 'scale_shift_table', 'blocks.0.attn1.to_q.weight']],
  [{ model: 'vae', naming: 'original' }, ['decoder.conv1.weight', 'decoder.head.2.weight', 'conv2.weight']],
  [{ model: 'vae', naming: 'diffusers' }, ['decoder.conv_in.weight', 'decoder.conv_out.weight', 'post_quant_conv.weight']],
  [{ model: 't5', naming: 'original' }, ['token_embedding.weight', 'blocks.0.attn.q.weight', 'norm.weight']],
  [{ model: 't5', naming: 'diffusers' }, ['encoder.block.0.layer.0.SelfAttention.q.weight', 'encoder.final_layer_norm.weight']],
];

/** Which model and naming a key list comes from, or undefined when it matches none. */
export function detectLayout(keys: Iterable<string>): KeyLayout | undefined {
  const set = keys instanceof Set ? (keys as Set<string>) : new Set(keys);
  for (const [layout, markers] of LAYOUT_MARKERS) {
    if (markers.every((k) => set.has(k))) return { ...layout };
  }
  return undefined;
}
