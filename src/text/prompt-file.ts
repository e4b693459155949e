/**
 * Reading prompts from a file. Invalid UTF-8 is rejected by default with the byte offset of
 * the first bad sequence (a silently mangled prompt would render the wrong video); with
 * `onInvalid: 'replace'` each bad sequence becomes U+FFFD and a warning says where.
 */
import { readFileSync } from 'node:fs';
import { PromptEncodingError } from './errors.js';

export interface PromptFile {
  /** The whole file as text (BOM removed). */
  text: string;
  /** Non-empty lines, trimmed: one prompt per line. */
  prompts: string[];
  warnings: string[];
}

export interface ReadPromptOptions {
  onInvalid?: 'reject' | 'replace';
}

/** Byte offset of the first invalid UTF-8 sequence (overlongs, surrogates, > U+10FFFF included), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; cp = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; cp = b & 0x07; }
    else return i;
    if (i + need >= bytes.length) return i; // truncated sequence at the end
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

export function readPromptFile(path: string, options: ReadPromptOptions = {}): PromptFile {
  let bytes: Uint8Array = readFileSync(path);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  bytes = bytes.subarray(bom);
  const warnings: string[] = [];
  const found = firstInvalidUtf8(bytes);
  const bad = found === -1 ? -1 : found + bom;
  if (bad !== -1) {
    if (options.onInvalid !== 'replace') throw new PromptEncodingError(path, bad);
    warnings.push(`${path}: invalid UTF-8 at byte ${bad} (and possibly later) replaced with U+FFFD`);
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  const prompts = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  return { text, prompts, warnings };
}
