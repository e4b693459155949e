import { describe, expect, it } from 'vitest';
import { isPortableFileName, jobOutputName, MAX_NAME_BYTES, SUFFIX_RESERVE_BYTES, slugify } from '../../src/batch/naming.js';

describe('slugify', () => {
  it('folds accents and punctuation into lowercase ASCII words', () => {
    expect(slugify('A red fox, running through SNOW!')).toBe('a-red-fox-running-through-snow');
    expect(slugify('Crème brûlée à la café')).toBe('creme-brulee-a-la-cafe');
    expect(slugify('  --Ünïcödé__ test..  ')).toBe('unicode-test');
  });

  it('never returns an empty or reserved name', () => {
    expect(slugify('熊猫在竹林里')).toBe('untitled');
    expect(slugify('???')).toBe('untitled');
    expect(slugify('CON')).toBe('con_');
    expect(slugify('nul')).toBe('nul_');
    expect(slugify('com1')).toBe('com1_');
    expect(isPortableFileName(slugify('lpt9'))).toBe(true);
  });

  it('shortens long text with a hash so long prompts with a shared prefix stay distinct', () => {
    const base = 'a cinematic shot of '.repeat(20);
    const a = slugify(`${base} a cat`, 40);
    const b = slugify(`${base} a dog`, 40);
    expect(a.length).toBeLessThanOrEqual(40);
    expect(a).not.toBe(b);
    expect(a).toMatch(/-[0-9a-f]{8}$/);
  });
});

describe('jobOutputName', () => {
  it('is deterministic and sorts by job index', () => {
    const parts = { index: 3, prompt: 'A lighthouse at dusk', seed: 42, extension: 'mp4' };
    expect(jobOutputName(parts)).toBe('0003-a-lighthouse-at-dusk-s42.mp4');
    expect(jobOutputName(parts)).toBe(jobOutputName({ ...parts }));
    expect(jobOutputName({ ...parts, index: 12, indexWidth: 5 })).toBe('00012-a-lighthouse-at-dusk-s42.mp4');
  });

  it('stays within the filename byte limit with room for sidecar suffixes, for any prompt', () => {
    const prompts = [
      'x'.repeat(5000),
      'é'.repeat(400),
      '🦊 '.repeat(300),
      'The quick brown fox jumps over the lazy dog. '.repeat(30),
      'CON',
      'file.with.dots...   ',
      'a/b\\c:d*e?f"g<h>i|j',
    ];
    for (const prompt of prompts) {
      const name = jobOutputName({ index: 123456, prompt, seed: 2147483646, extension: 'webm' });
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES - SUFFIX_RESERVE_BYTES);
      expect(isPortableFileName(name)).toBe(true);
      expect(isPortableFileName(`${name}.latent.npy`)).toBe(true);
      expect(name).toMatch(/^[a-z0-9_.-]+$/);
    }
  });

  it('gives different names to different seeds and indexes', () => {
    const names = new Set<string>();
    for (let index = 0; index < 3; index++) for (const seed of [1, 2]) names.add(jobOutputName({ index, prompt: 'same', seed, extension: 'mp4' }));
    expect(names.size).toBe(6);
  });
});

describe('isPortableFileName', () => {
  it('rejects names some filesystem refuses', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a:b', 'what?', 'trail.', 'trail ', 'CON', 'con.mp4', 'Nul.txt', 'LPT1', 'x'.repeat(256), 'tab\there']) {
      expect(isPortableFileName(bad), bad).toBe(false);
    }
    for (const good of ['0001-fox-s1.mp4', 'console.mp4', 'nullable.json', '.hidden', 'x'.repeat(255)]) {
      expect(isPortableFileName(good), good).toBe(true);
    }
  });
});
