/**
 * Deterministic output names for batch jobs: `<index>-<prompt slug>-s<seed>.<ext>`.
 * Names must be valid on every common filesystem (ext4, APFS, NTFS, FAT, SMB shares), so the
 * slug is plain ASCII, Windows device names and trailing dots/spaces are avoided, and the
 * whole name stays well under the 255-byte limit, leaving room for the suffixes the pipeline
 * adds next to a video (sidecar `.json`, `.latent.npy`, temporary `.tmp-*` names).
 */
import { createHash } from 'node:crypto';

/** Longest file name (in bytes) that ext4, APFS and NTFS all accept. */
export const MAX_NAME_BYTES = 255;
/** Bytes kept free for suffixes appended to an output name by the pipeline. */
export const SUFFIX_RESERVE_BYTES = 48;
/** Longest slug kept before shortening with a hash, so names stay readable in a listing. */
export const MAX_SLUG_CHARS = 80;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
const FORBIDDEN_CHARS = /[<>:"/\\|?*\u0000-\u001f\u007f]/;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * Lowercase ASCII slug of free text: accents folded (é → e), every other run of characters
 * that is not [a-z0-9] becomes one '-'. At most `maxChars`; a shortened slug ends in a hash of
 * the full text so two long prompts sharing a prefix still get different names.
 */
export function slugify(text: string, maxChars = MAX_SLUG_CHARS): string {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  let slug = folded.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (slug === '') slug = 'untitled';
  if (slug.length > maxChars) {
    const keep = Math.max(1, maxChars - 9);
    slug = `${slug.slice(0, keep).replace(/-+$/, '')}-${shortHash(text)}`;
  }
  if (WINDOWS_RESERVED.test(slug)) slug = `${slug}_`;
  return slug;
}

/** True when `name` is a file name every common filesystem accepts (not a path). */
export function isPortableFileName(name: string): boolean {
  if (name === '' || name === '.' || name === '..') return false;
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return false;
  if (FORBIDDEN_CHARS.test(name)) return false;
  if (/[. ]$/.test(name)) return false;
  // NTFS treats "CON.mp4" like "CON": the part before the first dot must not be a device name.
  const stem = name.split('.')[0] ?? '';
  return !WINDOWS_RESERVED.test(stem.trim());
}

export interface JobNameParts {
  /** 0-based position of the job in its jobs file. */
  index: number;
  prompt: string;
  seed: number;
  /** Extension without the dot (mp4, webm, gif, png). */
  extension: string;
  /** Digits the index is padded to (so names sort in job order); at least 4. */
  indexWidth?: number;
}

/** The output file name of one batch job: same inputs, same name, on every run and machine. */
export function jobOutputName({ index, prompt, seed, extension, indexWidth = 4 }: JobNameParts): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`job index must be a non-negative integer, got ${index}`);
  if (!/^[a-z0-9]{1,8}$/.test(extension)) throw new RangeError(`bad output extension "${extension}"`);
  const prefix = String(index).padStart(Math.max(4, indexWidth), '0');
  const tail = `-s${seed}.${extension}`;
  const room = MAX_NAME_BYTES - SUFFIX_RESERVE_BYTES - prefix.length - 1 - tail.length;
  const slug = slugify(prompt, Math.min(MAX_SLUG_CHARS, room));
  return `${prefix}-${slug}${tail}`;
}
