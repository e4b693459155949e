/**
 * Text encoding speed, in one run:
 *  1. tokenizer throughput (tokens/s, cleaning included) on the test tokenizer.json and on a
 *     synthetic 256k-piece Unigram vocabulary the size of umT5's (its load time too);
 *  2. the umT5 encoder on one 512-token prompt, on the fixture-sized encoder (dim 32,
 *     2 layers) and on a random umT5-large-sized one (dim 1024, 16 heads, FFN 2816,
 *     24 layers — about 4 % of umT5-XXL's FLOPs), converted through the streaming converter;
 *  3. what the trimmed run saves: a 20-token prompt run on its real tokens vs padded to 512.
 * Run: npx tsx bench/text-encode.ts [--layers N] [--only tokenizer|encoder]
 * (the machine's load average is printed: timings on a shared, busy machine are inflated)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertT5Encoder, convertT5EncoderFile } from '../src/models/wan/t5/convert.js';
import { t5Keys } from '../src/models/wan/t5/config.js';
import { T5EncoderSession } from '../src/models/wan/t5/session.js';
import { Tokenizer, type TokenizerJson } from '../src/text/tokenizer.js';
import { DEFAULT_NEGATIVE_PROMPT } from '../src/text/context.js';
import type { TensorInfo, WeightSource } from '../src/weights/index.js';
import { uniformRandom } from '../src/core/random.js';

const layersArg = process.argv.indexOf('--layers');
const MID = { vocab: 32000, dim: 1024, ffn: 2816, heads: 16, layers: layersArg > 0 ? Number(process.argv[layersArg + 1]) : 24 };
const TEXT_LEN = 512;
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
const tmp = mkdtempSync(join(tmpdir(), 'diffsparse-bench-text-'));
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

const PROMPTS = [
  'A red fox running through deep snow at dawn, cinematic lighting, shallow depth of field.',
  'Two anthropomorphic cats in comfy boxing gear and bright gloves fight intensely on a spotlighted stage.',
  'Tom &amp; Jerry chase each other across a kitchen, “classic cartoon” style, 4K.',
  DEFAULT_NEGATIVE_PROMPT,
  '一只小狗在草地上奔跑，阳光明媚，高清画质 🐶🌞',
];

function tokenizerThroughput(name: string, tok: Tokenizer): void {
  const corpus = Array.from({ length: 200 }, (_, i) => PROMPTS[i % PROMPTS.length]);
  let tokens = 0;
  for (const p of corpus.slice(0, 20)) tok.encode(p, { maxLength: TEXT_LEN }); // warm-up
  const t0 = process.hrtime.bigint();
  for (let round = 0; round < 5; round++) for (const p of corpus) tokens += tok.encode(p, { maxLength: TEXT_LEN }).length;
  const elapsed = ms(t0);
  console.log(`tokenizer ${name}: ${tokens} tokens in ${elapsed.toFixed(0)} ms → ${(tokens / (elapsed / 1000)).toFixed(0)} tokens/s (${((5 * corpus.length) / (elapsed / 1000)).toFixed(0)} prompts/s)`);
}

/** A 256k-piece Unigram vocabulary over ASCII letters and common CJK characters. */
function syntheticBigTokenizer(): TokenizerJson {
  const base = JSON.parse(readFileSync(new URL('../test/text/fixtures/tokenizer.json', import.meta.url), 'utf8')) as TokenizerJson & { model: { vocab: [string, number][] } };
  const letters = 'abcdefghijklmnopqrstuvwxyz色调艳丽过曝静态细节模糊不清字幕风格作品画面止整体发灰最差质量低压缩残留丑陋缺多余手指得好部脸畸形毁容肢融合动杂乱背景三条腿人很倒着走狗草地奔跑阳光明媚高清';
  const alphabet = Array.from(letters);
  const seen = new Set(base.model.vocab.map(([p]) => p));
  const vocab = [...base.model.vocab];
  const rand = uniformRandom(7);
  while (vocab.length < 256300) {
    const len = 1 + Math.floor(rand() * 6);
    let piece = rand() < 0.5 ? '\u2581' : '';
    for (let i = 0; i < len; i++) piece += alphabet[Math.floor(rand() * alphabet.length)];
    if (seen.has(piece)) continue;
    seen.add(piece);
    vocab.push([piece, -5 - 10 * rand()]);
  }
  return { ...base, model: { ...base.model, vocab } } as TokenizerJson;
}

function randomSource(cfg: typeof MID): WeightSource {
  const shapes = new Map<string, number[]>([[t5Keys.embedding, [cfg.vocab, cfg.dim]], [t5Keys.finalNorm, [cfg.dim]]]);
  for (let i = 0; i < cfg.layers; i++) {
    const k = t5Keys.block(i);
    for (const key of [k.q, k.k, k.v, k.o]) shapes.set(key, [cfg.dim, cfg.dim]);
    shapes.set(k.norm1, [cfg.dim]).set(k.norm2, [cfg.dim]).set(k.gate, [cfg.ffn, cfg.dim]).set(k.fc1, [cfg.ffn, cfg.dim]).set(k.fc2, [cfg.dim, cfg.ffn]).set(k.posEmbedding, [32, cfg.heads]);
  }
  const read = async (key: string): Promise<Float32Array> => {
    const shape = shapes.get(key)!;
    const rand = uniformRandom(key.length * 7919 + shape[0]);
    const scale = shape.length === 1 ? 0.1 : 1 / Math.sqrt(shape[1]);
    return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (shape.length === 1 ? 1 : 0) + scale * (2 * rand() - 1));
  };
  const info = (key: string): TensorInfo => ({ name: key, dtype: 'F32', shape: shapes.get(key)! });
  const source = {
    path: '<random>', keys: () => [...shapes.keys()], has: (k: string) => shapes.has(k), info, readF32: read,
    readI64: async (): Promise<BigInt64Array> => { throw new Error('none'); }, readRaw: async (k: string) => new Uint8Array((await read(k)).buffer), close: async () => {},
  };
  return source;
}

/** Forward FLOPs of the encoder for L tokens (matmuls and attention; norms and softmax ignored). */
function flops(cfg: { dim: number; ffn: number; layers: number }, L: number): number {
  return cfg.layers * (2 * L * (4 * cfg.dim * cfg.dim + 3 * cfg.dim * cfg.ffn) + 4 * L * L * cfg.dim);
}

async function timeEncoder(name: string, dir: string, cfg: { dim: number; ffn: number; layers: number; vocab: number }): Promise<void> {
  const t0 = process.hrtime.bigint();
  const enc = await T5EncoderSession.load(dir);
  const load = ms(t0);
  const make = (n: number, len: number): [BigInt64Array, BigInt64Array] => {
    const ids = new BigInt64Array(len);
    const mask = new BigInt64Array(len);
    for (let i = 0; i < n; i++) { ids[i] = BigInt(3 + ((i * 7919) % (cfg.vocab - 3))); mask[i] = 1n; }
    ids[n - 1] = 1n;
    return [ids, mask];
  };
  const full = make(TEXT_LEN, TEXT_LEN);
  await enc.run(...full, 1); // warm-up
  const runs = 3;
  const t1 = process.hrtime.bigint();
  for (let r = 0; r < runs; r++) await enc.run(...full, 1);
  const per = ms(t1) / runs;
  const gflop = flops(cfg, TEXT_LEN) / 1e9;
  console.log(`encoder ${name}: load ${load.toFixed(0)} ms; one ${TEXT_LEN}-token prompt ${per.toFixed(1)} ms (${gflop.toFixed(1)} GFLOP, ${(gflop / (per / 1000)).toFixed(1)} GFLOP/s)`);
  const [shortIds, shortMask] = make(20, TEXT_LEN);
  const t2 = process.hrtime.bigint();
  for (let r = 0; r < runs; r++) await enc.run(shortIds, shortMask, 1);
  const padded = ms(t2) / runs;
  const t3 = process.hrtime.bigint();
  for (let r = 0; r < runs; r++) await enc.run(shortIds.subarray(0, 20), shortMask.subarray(0, 20), 1);
  const trimmed = ms(t3) / runs;
  console.log(`encoder ${name}: 20-token prompt padded to ${TEXT_LEN}: ${padded.toFixed(1)} ms; real tokens only: ${trimmed.toFixed(1)} ms (${(padded / trimmed).toFixed(1)}x)`);
}

try {
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  if (only !== 'encoder') {
    tokenizerThroughput('test tokenizer.json (388 pieces)', Tokenizer.fromFile(new URL('../test/text/fixtures/tokenizer.json', import.meta.url).pathname));
    const big = syntheticBigTokenizer();
    const t0 = process.hrtime.bigint();
    const bigTok = new Tokenizer(big);
    console.log(`tokenizer synthetic ${big.model.type} with ${(big.model as { vocab: unknown[] }).vocab.length} pieces: built in ${ms(t0).toFixed(0)} ms`);
    tokenizerThroughput('synthetic 256k vocabulary', bigTok);
  }
  if (only !== 'tokenizer') {
    const tiny = join(tmp, 'tiny');
    await convertT5EncoderFile(new URL('../../shared/fixtures/wan21-tiny/t5/umt5_tiny_enc_bf16.pth', import.meta.url).pathname, tiny, { numHeads: 4, textLen: TEXT_LEN });
    await timeEncoder('fixture (dim 32, 2 layers)', tiny, { dim: 32, ffn: 64, layers: 2, vocab: 300 });

    const mid = join(tmp, 'mid');
    const t1 = process.hrtime.bigint();
    const manifest = await convertT5Encoder(randomSource(MID), mid, { numHeads: MID.heads, textLen: TEXT_LEN });
    console.log(`converted random encoder (dim ${MID.dim}, ${MID.layers} layers, ${manifest.config.vocab} vocab) in ${ms(t1).toFixed(0)} ms`);
    await timeEncoder(`random (dim ${MID.dim}, ffn ${MID.ffn}, ${MID.heads} heads, ${MID.layers} layers)`, mid, MID);
    const xxl = { dim: 4096, ffn: 10240, layers: 24 };
    console.log(`for scale: umT5-XXL on ${TEXT_LEN} tokens is ${(flops(xxl, TEXT_LEN) / 1e9).toFixed(0)} GFLOP (${(flops(xxl, TEXT_LEN) / flops(MID, TEXT_LEN)).toFixed(1)}x the random encoder)`);
  }
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
