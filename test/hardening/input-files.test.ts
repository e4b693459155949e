/**
 * Issue 18: input files with bad numbers or of the wrong kind. `--noise` with NaN/Inf rendered an
 * all-black video with exit 0; `--noise /dev/zero` (or a FIFO as a weight file) read forever; a
 * JSON error on `--defaults /etc/passwd` quoted the file's first bytes. Each is now a clear error
 * naming the file, before the text encoder runs; special files are refused without opening them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobs } from '../../src/batch/jobs.js';
import { requestFieldProblems } from '../../src/batch/request.js';
import { jsonObject } from '../../src/cli/parse.js';
import { jsonErrorMessage } from '../../src/io/input-file.js';
import { encodeNpy, parseNpy } from '../../src/io/npy.js';
import { readLatentNpy } from '../../src/pipeline/latent-file.js';
import { loadCostTable } from '../../src/sparsity/cost-table-file.js';
import { loadSchedule } from '../../src/sparsity/schedule.js';
import { openWeights } from '../../src/weights/index.js';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';

const tmp = mkdtempSync(join(tmpdir(), 'ds-input-files-'));
const fifo = join(tmp, 'fifo');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  execFileSync('mkfifo', [fifo]);
});

/** The tiny demo model's (wan-demo-tiny) latent for 64x64, 5 frames: (16, 2, 8, 8). */
const SHAPE = [16, 2, 8, 8];
function noiseFile(name: string, fill: (data: Float32Array) => void, shape = SHAPE, dtype: 'float32' | 'float64' = 'float32'): string {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(count).map((_, i) => Math.sin(i)) : new Float64Array(count);
  if (data instanceof Float32Array) fill(data);
  const file = join(tmp, name);
  writeFileSync(file, encodeNpy({ dtype, shape, data }));
  return file;
}

describe('--noise files', () => {
  it('NaN and Inf values are refused, naming the file, the count and the first position', () => {
    const nan = noiseFile('nan.npy', (d) => { d[3] = NaN; d[200] = NaN; });
    expect(() => readLatentNpy(nan)).toThrow(new RegExp(`${nan.replace(/[.]/g, '\\.')}: 2 of its 2048 values are not finite numbers \\(the first, at \\(0, 0, 0, 3\\), is NaN\\)`));
    const inf = noiseFile('inf.npy', (d) => { d[2047] = -Infinity; });
    expect(() => readLatentNpy(inf)).toThrow(/1 of its 2048 values are not finite numbers \(the first, at \(15, 1, 7, 7\), is -Infinity\)/);
  });

  it('wrong dtype and wrong rank are refused', () => {
    expect(() => readLatentNpy(noiseFile('f64.npy', () => undefined, SHAPE, 'float64'))).toThrow(/f64\.npy: a latent must be float32, found float64/);
    expect(() => readLatentNpy(noiseFile('rank.npy', () => undefined, [16, 128]))).toThrow(/must have shape \(C, F, H, W\) or \(1, C, F, H, W\), found \(16, 128\)/);
  });

  it('a damaged .npy is a format error, not an internal one', () => {
    const short = join(tmp, 'short.npy');
    writeFileSync(short, Buffer.from([0x93, 0x4e, 0x55]));
    expect(() => readLatentNpy(short)).toThrow(/short\.npy: not a \.npy file/);
    const good = encodeNpy({ dtype: 'float32', shape: [2], data: new Float32Array(2) });
    const text = Buffer.from(good).toString('latin1').replace("'shape': (2,)", "'shape': (-2,)");
    expect(() => parseNpy(Buffer.from(text, 'latin1'), 'neg.npy')).toThrow(/neg\.npy: \.npy shape \(-2,\) must be non-negative integers/);
  });

  it('/dev/zero, a FIFO and a folder are refused at once', () => {
    const started = Date.now();
    expect(() => readLatentNpy('/dev/zero')).toThrow(/refusing to read \/dev\/zero as a latent \.npy file: it is a device, not a regular file/);
    expect(() => readLatentNpy(fifo)).toThrow(/it is a named pipe \(FIFO\), not a regular file/);
    expect(() => readLatentNpy(tmp)).toThrow(/it is a folder, not a regular file/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  describe('through the built binary', () => {
    beforeAll(ensureBuilt, 300_000);
    const run = (noise: string, extra: string[] = []) =>
      runBinary(['generate', 'a red circle', '--noise', noise, '--steps', '1', '--frames', '5', '--size', '64x64', '--pipeline', 'wan-demo-tiny', '--threads', '1', '-o', join(tmp, `out-${Math.random()}.mp4`), ...extra]);

    it('NaN noise exits 1 before the text encoder runs, nothing written', async () => {
      const r = await run(noiseFile('nan2.npy', (d) => d.fill(NaN)));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/nan2\.npy: 2048 of its 2048 values are not finite numbers/);
      expect(r.stderr).not.toMatch(/internal error|encode-text|denoise/);
    }, 120_000);

    it('/dev/zero and a FIFO exit 1 at once', async () => {
      for (const noise of ['/dev/zero', fifo]) {
        const started = Date.now();
        const r = await run(noise);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/refusing to read .* as a latent \.npy file: it is a (device|named pipe \(FIFO\)), not a regular file/);
        expect(Date.now() - started).toBeLessThan(60_000);
      }
    }, 150_000);

    it('noise of another shape is a usage error (exit 2)', async () => {
      const r = await run(noiseFile('shape.npy', () => undefined, [16, 3, 8, 8]));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds noise of shape \[16,3,8,8\] but this request needs \[16,2,8,8\]/);
    }, 120_000);
  });
});

describe('other input files', () => {
  it('a FIFO or device as a weight file is refused without blocking', async () => {
    await expect(openWeights(fifo)).rejects.toThrow(/is a named pipe \(FIFO\), not a weight file/);
    await expect(openWeights('/dev/zero')).rejects.toThrow(/is a device, not a weight file/);
  });

  it('schedule files and cost tables', async () => {
    await expect(loadSchedule(fifo)).rejects.toThrow(/refusing to read .*fifo as a schedule file: it is a named pipe/);
    await expect(loadCostTable('/dev/zero', { steps: 4, layers: 3 })).rejects.toThrow(/refusing to read \/dev\/zero as a cost table: it is a device/);
    const noLevels = join(tmp, 'cost.json');
    writeFileSync(noLevels, JSON.stringify({ format: 'diffsparse/cost-table', version: 1, cost: [] }));
    await expect(loadCostTable(noLevels, { steps: 4, layers: 3 })).rejects.toThrow(/is not a diffsparse cost table/);
    const huge = join(tmp, 'sched.json');
    writeFileSync(huge, '{"format": 1e999');
    await expect(loadSchedule(huge)).rejects.toThrow(/sched\.json: not valid JSON/);
  });

  it('--defaults FILE: special files refused, JSON errors never quote the file', () => {
    const passwd = join(tmp, 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nsecret-line\n');
    expect(() => jsonObject(passwd)).toThrow(/^the file is not valid JSON \(Unexpected token 'r'\)\.$/);
    expect(() => jsonObject(passwd)).not.toThrow(/root:x|secret/);
    expect(() => jsonObject('/dev/zero')).toThrow(/refusing to read \/dev\/zero as a JSON file: it is a device/);
    expect(() => jsonObject('{"steps": 2,}')).toThrow(/is not valid JSON \(Expected double-quoted property name/);
  });

  it('jobs lines: JSON errors never quote the line', () => {
    expect(() => parseJobs('root:x:0:0:root:/root:/bin/bash', 'jobs.jsonl')).toThrow(/jobs\.jsonl:1: not valid JSON: Unexpected token 'r'/);
    expect(() => parseJobs('root:x:0:0:root:/root:/bin/bash', 'jobs.jsonl')).not.toThrow(/root:x/);
  });

  it('jsonErrorMessage keeps the position, drops the excerpt', () => {
    const message = (text: string): string => {
      try {
        JSON.parse(text);
      } catch (e) {
        return jsonErrorMessage(e);
      }
      return '';
    };
    expect(message('{"a": 1,}')).toMatch(/^Expected double-quoted property name( in JSON)?.*(at character 9|column 9)/);
    expect(message('{"a": ')).toBe('the text ends before the JSON value does');
    expect(message('password=hunter2')).not.toMatch(/hunter2/);
  });
});

describe('output names whose format diffsparse does not write', () => {
  it('a jobs line "output": "x.avi" names the formats', () => {
    expect(requestFieldProblems({ output: 'clips/x.avi' })).toEqual([
      '"output" "clips/x.avi": ".avi" is not a format diffsparse writes; name it .mp4, .webm, .gif or .png (png writes a folder of frames)',
    ]);
    expect(requestFieldProblems({ output: 'x.gif', format: 'mp4' })[0]).toMatch(/"x\.gif" ends in "\.gif" but the format is mp4/);
    expect(requestFieldProblems({ output: 'frames.v2', format: 'png' })).toEqual([]);
    expect(requestFieldProblems({ output: 'clip' })).toEqual([]);
  });

  it('generate -o out.avi exits 2 before any work', async () => {
    await ensureBuilt();
    const out = join(tmp, 'out.avi');
    const r = await runBinary(['generate', 'a fox', '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-o ".*out\.avi": "\.avi" is not a format diffsparse writes; name it \.mp4, \.webm, \.gif or \.png/);
    expect(existsSync(out)).toBe(false);
  }, 300_000);
});
