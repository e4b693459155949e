/** Inputs and folders a user can get wrong: each gives a typed error that names the problem. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, CheckpointKeyError, convertCheckpoint } from '../../src/convert/index.js';
import { DiTConfigError, DiTInputError, DiTModelFolderError } from '../../src/models/wan/dit/errors.js';
import { WanDiT } from '../../src/models/wan/dit/runtime.js';
import { FIXTURE_DIT_DIR, fixture } from './fixtures.js';
import { readFixtureCheckpoint, writeCheckpointDir, type Tensor } from './helpers/checkpoint.js';

const tmp = mkdtempSync(join(tmpdir(), 'diffsparse-dit-err-'));
const modelDir = join(tmp, 'model');
let dit: WanDiT;
let weights: Map<string, Tensor>;

beforeAll(async () => {
  await convertCheckpoint(FIXTURE_DIT_DIR, modelDir);
  dit = await WanDiT.load(modelDir, { intraOpThreads: 1 });
  weights = await readFixtureCheckpoint();
});
afterAll(async () => {
  await dit?.release();
  rmSync(tmp, { recursive: true, force: true });
});

const ctx = () => {
  const c = fixture('context');
  return { data: c.data, shape: c.shape as [number, number] };
};

describe('DiT input errors', () => {
  it('rejects a latent whose height or width does not fit the patch', async () => {
    const bad = { data: new Float32Array(16 * 3 * 7 * 12), shape: [16, 3, 7, 12] as [number, number, number, number] };
    await expect(dit.forward(bad, 500, ctx())).rejects.toThrow(DiTInputError);
    await expect(dit.forward(bad, 500, ctx())).rejects.toThrow(/height 7 is not a positive multiple of the patch size 2/);
    const badW = { data: new Float32Array(16 * 3 * 8 * 9), shape: [16, 3, 8, 9] as [number, number, number, number] };
    await expect(dit.forward(badW, 500, ctx())).rejects.toThrow(/width 9/);
    const badC = { data: new Float32Array(4 * 3 * 8 * 12), shape: [4, 3, 8, 12] as [number, number, number, number] };
    await expect(dit.forward(badC, 500, ctx())).rejects.toThrow(/4 channels but the DiT expects 16/);
  });

  it('rejects a text context of the wrong width or length', async () => {
    const x = fixture('x');
    const latent = { data: x.data, shape: x.shape as [number, number, number, number] };
    const wide = { data: new Float32Array(7 * 50), shape: [7, 50] as [number, number] };
    await expect(dit.forward(latent, 500, wide)).rejects.toThrow(DiTInputError);
    await expect(dit.forward(latent, 500, wide)).rejects.toThrow(/50 wide but this DiT expects 48/);
    const long = { data: new Float32Array(30 * 48), shape: [30, 48] as [number, number] };
    await expect(dit.forward(latent, 500, long)).rejects.toThrow(/at most text_len=24/);
  });

  it('accepts any latent size the patch grid allows', async () => {
    const latent = { data: Float32Array.from({ length: 16 * 2 * 6 * 10 }, (_, i) => Math.sin(i)), shape: [16, 2, 6, 10] as [number, number, number, number] };
    const out = await dit.forward(latent, 321, ctx());
    expect(out.shape).toEqual([16, 2, 6, 10]);
    expect(out.data.every(Number.isFinite)).toBe(true);
  });
});

describe('converter and folder errors', () => {
  it('names missing and unexpected checkpoint keys', async () => {
    const broken = new Map(weights);
    broken.delete('blocks.1.cross_attn.norm_k.weight');
    broken.delete('head.head.bias');
    broken.set('blocks.0.extra.weight', { shape: [2], data: new Float32Array(2) });
    const dir = writeCheckpointDir(join(tmp, 'broken'), broken);
    const err = await convertCheckpoint(dir, join(tmp, 'broken-out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointKeyError);
    const e = err as CheckpointKeyError;
    expect(e.missing.sort()).toEqual(['blocks.1.cross_attn.norm_k.weight', 'head.head.bias']);
    expect(e.unexpected).toEqual(['blocks.0.extra.weight']);
    expect(e.message).toMatch(/missing keys: .*blocks\.1\.cross_attn\.norm_k\.weight/);
    expect(e.message).toMatch(/unexpected keys: blocks\.0\.extra\.weight/);
  });

  it('names a tensor whose shape does not match the config', async () => {
    const wrong = new Map(weights);
    wrong.set('blocks.2.ffn.0.bias', { shape: [100], data: new Float32Array(100) });
    const dir = writeCheckpointDir(join(tmp, 'wrong-shape'), wrong);
    await expect(convertCheckpoint(dir, join(tmp, 'wrong-out'))).rejects.toThrow(CheckpointError);
    await expect(convertCheckpoint(dir, join(tmp, 'wrong-out'))).rejects.toThrow(/blocks\.2\.ffn\.0\.bias has shape \[100\]/);
  });

  it('applies the code defaults for keys absent from the release config.json', async () => {
    const config = JSON.parse(readFileSync(join(FIXTURE_DIT_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['patch_size', 'window_size', 'qk_norm', 'cross_attn_norm']) delete config[k];
    const dir = writeCheckpointDir(join(tmp, 'release-config'), weights, config);
    const manifest = await convertCheckpoint(dir, join(tmp, 'release-out'));
    expect(manifest.config.patchSize).toEqual([1, 2, 2]);
    expect(manifest.config.qkNorm).toBe(true);
    // text_dim absent defaults to 4096, which these 48-wide weights contradict
    delete config.text_dim;
    const dir2 = writeCheckpointDir(join(tmp, 'release-config-2'), weights, config);
    await expect(convertCheckpoint(dir2, join(tmp, 'release-out-2'))).rejects.toThrow(/text_embedding\.0\.weight has shape \[64,48\] but config\.json implies \[64,4096\]/);
  });

  it('refuses a checkpoint folder without config.json', async () => {
    const dir = join(tmp, 'no-config');
    writeCheckpointDir(dir, weights);
    rmSync(join(dir, 'config.json'));
    await expect(convertCheckpoint(dir, join(tmp, 'no-config-out'))).rejects.toThrow(DiTConfigError);
  });

  it('refuses a folder converted by another format version, and an unfinished one', async () => {
    const other = join(tmp, 'other-version');
    cpSync(modelDir, other, { recursive: true });
    const manifestPath = join(other, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    manifest.formatVersion = 999;
    writeFileSync(manifestPath, JSON.stringify(manifest));
    await expect(WanDiT.load(other)).rejects.toThrow(DiTModelFolderError);
    await expect(WanDiT.load(other)).rejects.toThrow(/format version 999 .* this build reads version 1; convert the checkpoint again/);
    rmSync(manifestPath);
    await expect(WanDiT.load(other)).rejects.toThrow(/has no manifest\.json/);
  });

  it('refuses a folder whose stage file was truncated', async () => {
    const damaged = join(tmp, 'damaged');
    cpSync(modelDir, damaged, { recursive: true });
    writeFileSync(join(damaged, 'block1_post.weights'), new Uint8Array(10));
    await expect(WanDiT.load(damaged)).rejects.toThrow(/block1_post\.weights has 10 bytes/);
  });
});
