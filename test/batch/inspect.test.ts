import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/batch/errors.js';
import { describePath } from '../../src/batch/inspect.js';
import { tempDir, writeJobs } from './helpers/fixtures.js';

describe('describePath (diffsparse info)', () => {
  it('lists the components of a model folder from their manifests', async () => {
    const dir = await tempDir('info');
    await mkdir(path.join(dir, 'vae'));
    await writeFile(path.join(dir, 'vae', 'manifest.json'), JSON.stringify({ format: 'diffsparse-wan21-vae', formatVersion: 1, zDim: 16, nested: { ignored: true } }));
    await writeFile(path.join(dir, 'pipeline.json'), '{}');
    const info = await describePath(dir);
    expect(info).toMatchObject({
      kind: 'model-folder',
      components: [{ folder: 'vae', format: 'diffsparse-wan21-vae', details: { format: 'diffsparse-wan21-vae', formatVersion: 1, zDim: 16 } }],
      files: [{ name: 'pipeline.json', bytes: 2 }],
    });
  });

  it('summarises a jobs file and refuses what it does not know, naming the path', async () => {
    const dir = await tempDir('info-jobs');
    const jobs = await writeJobs(dir, 2);
    expect(await describePath(jobs)).toMatchObject({ kind: 'jobs-file', jobs: 2, firstPrompts: ['Scene number 0: a fox in the snow', 'Scene number 1: a fox in the snow'] });
    await expect(describePath(path.join(dir, 'nothing-here'))).rejects.toThrow(/nothing-here does not exist/);
    await expect(describePath(dir)).rejects.toThrow(UserError);
    const other = path.join(dir, 'other.json');
    await writeFile(other, '{"hello": 1}');
    await expect(describePath(other)).rejects.toThrow(/neither a sparsity schedule nor a batch manifest/);
  });
});
