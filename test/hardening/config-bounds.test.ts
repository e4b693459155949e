/**
 * Issue 18: extreme model config values (`num_layers: 1000000`, `num_heads` −2 or 0.5,
 * `text_len: 1e9`, dims not divisible by heads, negative/float/huge widths, patch sizes) passed
 * `convert` and failed later with internal errors or huge memory. Each is now one error naming
 * the key and its allowed range, before any work: in convert (config.json, t5_config.json,
 * vae_config.json, diffsparse.json) and in the readers of converted folders (dit/manifest.json,
 * text/text_encoder.json, vae/vae-decoder.json, pipeline.json).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWanDiTConfig } from '../../src/models/wan/dit/config.js';
import { readDiTManifest } from '../../src/models/wan/dit/manifest.js';
import { inferT5Config } from '../../src/models/wan/t5/config.js';
import { T5EncoderSession } from '../../src/models/wan/t5/session.js';
import { readVaeManifest } from '../../src/models/wan/vae/chunk-decoder.js';
import { resolvePipeline } from '../../src/pipeline/definition.js';
import { ensureBuilt, REPO_ROOT, runBinary } from '../cli/helpers/binary.js';

const DEMO = join(REPO_ROOT, 'samples/demo-model');
const base = JSON.parse(readFileSync(join(DEMO, 'checkpoint/config.json'), 'utf8')) as Record<string, unknown>;
const tmp = mkdtempSync(join(tmpdir(), 'ds-config-bounds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DiT config.json bounds', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ num_layers: 1000000 }, /"num_layers" must be an integer from 1 to 512 \(got 1000000\)/],
    [{ num_heads: -2 }, /"num_heads" must be an integer from 1 to 1024 \(got -2\)/],
    [{ num_heads: 0.5 }, /"num_heads" must be an integer from 1 to 1024 \(got 0\.5\)/],
    [{ text_len: 1e9 }, /"text_len" must be an integer from 1 to 4096 \(got 1000000000\)/],
    [{ dim: -96 }, /"dim" must be an integer from 1 to 65536 \(got -96\)/],
    [{ dim: 96.5 }, /"dim" must be an integer/],
    [{ ffn_dim: 1e12 }, /"ffn_dim" must be an integer from 1 to 262144/],
    [{ freq_dim: 255 }, /"freq_dim" must be even \(got 255\)/],
    [{ in_dim: 0 }, /"in_dim" must be an integer from 1 to 1024 \(got 0\)/],
    [{ text_dim: 1e9 }, /"text_dim" must be an integer from 1 to 65536/],
    [{ eps: -1 }, /"eps" must be a number greater than 0 to 1 \(got -1\)/],
    [{ patch_size: [1, 2, 0] }, /"patch_size\[2\]" must be an integer from 1 to 16 \(got 0\)/],
    [{ patch_size: [1, 2, 1000] }, /"patch_size\[2\]" must be an integer from 1 to 16 \(got 1000\)/],
    [{ dim: 100, num_heads: 3 }, /dim 100 is not divisible by num_heads 3; dim must be a multiple of num_heads/],
    [{ dim: 8, num_heads: 4 }, /head_dim 2 \(dim 8 \/ num_heads 4\) must be even and at least 6/],
    [{ num_attention_heads: 0.5, attention_head_dim: 24 }, /"num_attention_heads" must be an integer from 1 to 1024 \(got 0\.5\)/],
  ];
  for (const [change, message] of cases) {
    it(`${JSON.stringify(change)} -> ${message.source.slice(0, 40)}`, () => {
      expect(() => parseWanDiTConfig({ ...base, ...change })).toThrow(message);
    });
  }
  it('several bad keys are named together', () => {
    expect(() => parseWanDiTConfig({ ...base, num_layers: 1e6, num_heads: -2 })).toThrow(/"num_heads" .*; "num_layers"/);
  });
  it('the release configs still parse', () => {
    expect(parseWanDiTConfig(base).numLayers).toBe(3);
    expect(parseWanDiTConfig({ dim: 5120, ffn_dim: 13824, freq_dim: 256, num_heads: 40, num_layers: 40, in_dim: 16, out_dim: 16, text_len: 512, eps: 1e-6 }).dim).toBe(5120);
  });
});

describe('text encoder bounds', () => {
  const shapes: Record<string, number[]> = {
    'token_embedding.weight': [40, 64],
    'blocks.0.norm1.weight': [64],
    'blocks.0.attn.q.weight': [64, 64],
    'blocks.0.ffn.fc1.weight': [128, 64],
    'blocks.0.pos_embedding.embedding.weight': [32, 4],
  };
  const shapeOf = (k: string): number[] | undefined => shapes[k];
  it('text_len and num_heads given to the converter', () => {
    expect(() => inferT5Config(shapeOf, { textLen: 1e9 })).toThrow(/text encoder config: "text_len" must be an integer from 1 to 4096 \(got 1000000000\)/);
    expect(() => inferT5Config(shapeOf, { textLen: 32, numHeads: -2 })).toThrow(/"num_heads" must be an integer from 1 to 1024 \(got -2\)/);
    expect(inferT5Config(shapeOf, { textLen: 32 }).numHeads).toBe(4);
  });
});

describe('convert refuses bad configs before any work (built binary)', () => {
  beforeAll(ensureBuilt, 300_000);
  const variants: [string, (dir: string) => void, RegExp][] = [
    ['config.json num_layers 1000000', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...base, num_layers: 1000000 })), /config\.json: DiT config: "num_layers" must be an integer from 1 to 512 \(got 1000000\)/],
    ['config.json text_len 1e9', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...base, text_len: 1e9 })), /"text_len" must be an integer from 1 to 4096/],
    ['t5_config.json text_len 1e9', (d) => {
      const t5 = JSON.parse(readFileSync(join(d, 't5_config.json'), 'utf8'));
      writeFileSync(join(d, 't5_config.json'), JSON.stringify({ ...t5, text_len: 1e9, num_heads: 0.5 }));
    }, /t5_config\.json: "num_heads" must be an integer from 1 to 1024 \(got 0\.5\); "text_len" must be an integer from 1 to 4096/],
    ['vae_config.json std with a zero and too few means', (d) => {
      const vae = JSON.parse(readFileSync(join(d, 'vae_config.json'), 'utf8'));
      writeFileSync(join(d, 'vae_config.json'), JSON.stringify({ ...vae, mean: vae.mean, std: vae.std.map((v: number, i: number) => (i === 3 ? 0 : v)) }));
    }, /vae_config\.json: latent "std"\[3\] must be a finite number greater than 0/],
    ['diffsparse.json frames 100000', (d) => {
      const extra = JSON.parse(readFileSync(join(d, 'diffsparse.json'), 'utf8'));
      writeFileSync(join(d, 'diffsparse.json'), JSON.stringify({ ...extra, defaults: { ...extra.defaults, frames: 100000 } }));
    }, /diffsparse\.json: defaults: "frames" must be at most 1025/],
  ];
  for (const [name, edit, message] of variants) {
    it(name, async () => {
      const ckpt = join(tmp, name.replace(/\W+/g, '-'));
      cpSync(join(DEMO, 'checkpoint'), ckpt, { recursive: true });
      edit(ckpt);
      const out = join(ckpt, 'out');
      const started = Date.now();
      const run = await runBinary(['convert', ckpt, out]);
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/internal error|stage 1\//);
      expect(existsSync(join(out, 'dit'))).toBe(false); // nothing converted
      expect(Date.now() - started).toBeLessThan(30_000);
    }, 60_000);
  }
});

describe('readers of converted folders hold the same bounds', () => {
  const model = join(tmp, 'model');
  beforeAll(() => cpSync(join(DEMO, 'model'), model, { recursive: true }));
  const edit = (file: string, change: (doc: Record<string, any>) => void): (() => void) => {
    const path = join(model, file);
    const original = readFileSync(path, 'utf8');
    const doc = JSON.parse(original);
    change(doc);
    writeFileSync(path, JSON.stringify(doc));
    return () => writeFileSync(path, original);
  };

  it('dit/manifest.json', () => {
    let restore = edit('dit/manifest.json', (m) => (m.config.numLayers = 1000000));
    expect(() => readDiTManifest(join(model, 'dit'))).toThrow(/manifest\.json: DiT config: "num_layers" must be an integer from 1 to 512 \(got 1000000\); the folder is damaged or edited/);
    restore();
    restore = edit('dit/manifest.json', (m) => (m.tokens.textLen = 1e9));
    expect(() => readDiTManifest(join(model, 'dit'))).toThrow(/"tokens" does not match "config"/);
    restore();
    expect(readDiTManifest(join(model, 'dit')).config.numLayers).toBe(3);
  });

  it('text/text_encoder.json', async () => {
    const restore = edit('text/text_encoder.json', (m) => (m.config.textLen = 1e9));
    await expect(T5EncoderSession.load(join(model, 'text'))).rejects.toThrow(/text_encoder\.json: "text_len" must be an integer from 1 to 4096 \(got 1000000000\)/);
    restore();
  });

  it('vae/vae-decoder.json', () => {
    let restore = edit('vae/vae-decoder.json', (m) => (m.config.zDim = -16));
    expect(() => readVaeManifest(join(model, 'vae'))).toThrow(/"z_dim" must be an integer from 1 to 1024 \(got -16\)/);
    restore();
    restore = edit('vae/vae-decoder.json', (m) => (m.config.latentStd[0] = null));
    expect(() => readVaeManifest(join(model, 'vae'))).toThrow(/latent "std"\[0\] must be a finite number greater than 0/);
    restore();
    expect(readVaeManifest(join(model, 'vae')).config.zDim).toBe(16);
  });

  it('pipeline.json defaults', () => {
    const restore = edit('pipeline.json', (m) => Object.assign(m.defaults, { frames: 100000, width: -64 }));
    expect(() => resolvePipeline(model)).toThrow(/pipeline\.json: defaults: "defaults\.width" must be a positive integer \(got -64\); "defaults\.frames" must be at most 1025/);
    restore();
    expect(resolvePipeline(model).defaults.frames).toBe(9);
  });
});
