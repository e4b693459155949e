/**
 * Issue 19, item 3: `diffsparse decode LATENT.npy -o out` decodes a latent saved by
 * `generate --save-latent` with the settings of that run, giving the run's own frames.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'ds-decode-'));
});

async function frames(folder: string): Promise<Buffer[]> {
  const names = (await readdir(folder)).filter((f) => f.endsWith('.png')).sort();
  return Promise.all(names.map((n) => readFile(path.join(folder, n))));
}

// the tiny demo model (64x64, 9 frames) keeps these runs quick
const TINY = ['--pipeline', 'wan-demo-tiny'];

describe('diffsparse decode (built binary, tiny demo model)', () => {
  it('round trip: save the latent, decode it, the same frames as the original run', async () => {
    const original = path.join(dir, 'run');
    const gen = await runBinary(['generate', 'a red circle moving right', '--steps', '3', '--seed', '5', '--save-latent', '--format', 'png', '-o', original, ...TINY]);
    expect(gen.code, gen.stderr).toBe(0);
    const latent = `${original}.latent.npy`;
    const again = path.join(dir, 'again');
    const dec = await runBinary(['decode', latent, '-o', again, '--format', 'png', '--json']);
    expect(dec.code, dec.stderr).toBe(0);
    expect(JSON.parse(dec.stdout)).toMatchObject({ ok: true, output: again, frames: 9, seed: 5 });
    const a = await frames(original);
    const b = await frames(again);
    expect(a).toHaveLength(9);
    expect(b.length).toBe(a.length);
    b.forEach((f, i) => expect(f.equals(a[i]), `frame ${i}`).toBe(true));
    // the new sidecar carries the run's settings and says where the frames came from
    const sidecar = JSON.parse(await readFile(`${again}.json`, 'utf8'));
    expect(sidecar.settings).toMatchObject({ pipeline: 'wan-demo-tiny', prompt: 'a red circle moving right', seed: 5, steps: 3, decodedFrom: 'run.latent.npy' });

    // mp4 from the same latent; an existing output is refused without --overwrite
    const video = path.join(dir, 'again.mp4');
    expect((await runBinary(['decode', latent, '-o', video])).code).toBe(0);
    const twice = await runBinary(['decode', latent, '-o', video]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/already exists; pass --overwrite/);
  });

  it('without a sidecar it asks for --pipeline', async () => {
    const gen = await runBinary(['generate', 'a blue square', '--steps', '1', '--seed', '1', '--save-latent', '-o', path.join(dir, 'sq.mp4'), ...TINY]);
    expect(gen.code, gen.stderr).toBe(0);
    const { rename } = await import('node:fs/promises');
    const moved = path.join(dir, 'loose.npy');
    await rename(path.join(dir, 'sq.mp4.latent.npy'), moved);
    const dec = await runBinary(['decode', moved, '-o', path.join(dir, 'loose.mp4')]);
    expect(dec.code).not.toBe(0);
    expect(dec.stderr).toMatch(/no sidecar found .*pass --pipeline/);
    const ok = await runBinary(['decode', moved, '-o', path.join(dir, 'loose.mp4'), '--pipeline', 'wan-demo-tiny']);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
