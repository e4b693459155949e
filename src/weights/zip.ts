import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import { WeightFormatError } from './errors.js';
import { readExact } from './fileRead.js';

/** One member of a zip archive, located but not read. */
export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Central directories above this are refused: a torch checkpoint has a few thousand entries. */
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

function u64(view: DataView, at: number, filePath: string, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new WeightFormatError(filePath, `zip ${what} ${v} is out of range; the archive is corrupt`);
  return Number(v);
}

/**
 * Minimal zip reader for torch.save archives: central directory (with ZIP64), stored and
 * deflated members. Every length is checked against the file size before it is used.
 */
export class ZipArchive {
  /** Member data offsets, learned from local headers on first use. */
  private readonly dataOffsets = new Map<ZipEntry, number>();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(handle: FileHandle, filePath: string): Promise<ZipArchive> {
    const size = (await handle.stat()).size;
    if (size < 22) throw new WeightFormatError(filePath, `file has ${size} bytes, too short for a zip archive (torch .pth); re-download it`);
    // The end-of-central-directory record sits in the last 22 + up to 65535 comment bytes.
    const tailLen = Math.min(size, 22 + 65535);
    const tailStart = size - tailLen;
    const tail = await readExact(handle, tailLen, tailStart, filePath);
    const tv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new WeightFormatError(filePath, 'no zip end-of-central-directory record; the file is truncated or not a torch .pth archive');
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // ZIP64: a locator right before the EOCD points at the 64-bit record.
      const loc = eocd - 20;
      if (loc < 0 || tv.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) {
        throw new WeightFormatError(filePath, 'zip needs a ZIP64 record but its locator is missing; the archive is corrupt');
      }
      const recOffset = u64(tv, loc + 8, filePath, 'ZIP64 record offset');
      if (recOffset + 56 > size) throw new WeightFormatError(filePath, 'ZIP64 record lies past the end of the file; the archive is truncated');
      const rec = await readExact(handle, 56, recOffset, filePath);
      const rv = new DataView(rec.buffer);
      if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new WeightFormatError(filePath, 'ZIP64 end record has a bad signature; the archive is corrupt');
      count = u64(rv, 32, filePath, 'entry count');
      cdSize = u64(rv, 40, filePath, 'central directory size');
      cdOffset = u64(rv, 48, filePath, 'central directory offset');
    }
    if (cdOffset + cdSize > size || cdSize > MAX_CENTRAL_DIRECTORY) {
      throw new WeightFormatError(filePath, `zip central directory (${cdSize} bytes at ${cdOffset}) does not fit in the ${size}-byte file; the archive is truncated or corrupt`);
    }
    if (count * 46 > cdSize) throw new WeightFormatError(filePath, `zip claims ${count} entries but its central directory holds only ${cdSize} bytes`);
    const cd = await readExact(handle, cdSize, cdOffset, filePath);
    const entries = ZipArchive.parseCentralDirectory(cd, count, size, filePath);
    return new ZipArchive(filePath, handle, size, entries);
  }

  private static parseCentralDirectory(cd: Uint8Array, count: number, fileSize: number, filePath: string): Map<string, ZipEntry> {
    const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const names = new TextDecoder('utf-8', { fatal: false });
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.byteLength || v.getUint32(p, true) !== CENTRAL_SIG) {
        throw new WeightFormatError(filePath, `zip central directory entry ${i} is malformed; the archive is corrupt`);
      }
      const flags = v.getUint16(p + 8, true);
      const method = v.getUint16(p + 10, true);
      const crc = v.getUint32(p + 16, true);
      let compressedSize = v.getUint32(p + 20, true);
      let size = v.getUint32(p + 24, true);
      const nameLen = v.getUint16(p + 28, true);
      const extraLen = v.getUint16(p + 30, true);
      const commentLen = v.getUint16(p + 32, true);
      let localHeaderOffset = v.getUint32(p + 42, true);
      const nameStart = p + 46;
      const extraStart = nameStart + nameLen;
      const next = extraStart + extraLen + commentLen;
      if (next > cd.byteLength) throw new WeightFormatError(filePath, `zip central directory entry ${i} runs past the directory; the archive is corrupt`);
      const name = names.decode(cd.subarray(nameStart, extraStart));
      if (flags & 1) throw new WeightFormatError(filePath, `zip member "${name}" is encrypted; torch archives never are`);
      // ZIP64 extra field (id 1) carries, in order, only the fields whose 32-bit slot is saturated.
      let q = extraStart;
      while (q + 4 <= extraStart + extraLen) {
        const id = v.getUint16(q, true);
        const len = v.getUint16(q + 2, true);
        const body = q + 4;
        if (body + len > extraStart + extraLen) break;
        if (id === 1) {
          let r = body;
          const take = (): number => {
            if (r + 8 > body + len) throw new WeightFormatError(filePath, `zip member "${name}" has a short ZIP64 field; the archive is corrupt`);
            const x = u64(v, r, filePath, 'ZIP64 field');
            r += 8;
            return x;
          };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        q = body + len;
      }
      if (method !== 0 && method !== 8) {
        throw new WeightFormatError(filePath, `zip member "${name}" uses compression method ${method}; only stored (0) and deflate (8) are supported`);
      }
      if (localHeaderOffset + 30 > fileSize || localHeaderOffset + 30 + compressedSize > fileSize) {
        throw new WeightFormatError(filePath, `zip member "${name}" lies past the end of the file; the archive is truncated`);
      }
      // Deflate cannot compress better than about 1032:1; a larger claim is corruption (or a zip bomb).
      if (method === 8 && size > compressedSize * 1032 + 1024) {
        throw new WeightFormatError(filePath, `zip member "${name}" claims ${size} bytes from ${compressedSize} compressed; the archive is corrupt`);
      }
      if (method === 0 && compressedSize !== size) {
        throw new WeightFormatError(filePath, `zip member "${name}" is stored but its sizes disagree (${compressedSize} vs ${size})`);
      }
      if (entries.has(name)) throw new WeightFormatError(filePath, `zip member "${name}" appears twice; the archive is corrupt`);
      entries.set(name, { name, method, crc32: crc, compressedSize, size, localHeaderOffset });
      p = next;
    }
    return entries;
  }

  /** Absolute offset of a member's data, from its local header (whose extra field can differ from the central one). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(entry);
    if (known !== undefined) return known;
    const local = await readExact(this.handle, 30, entry.localHeaderOffset, this.path);
    const lv = new DataView(local.buffer);
    if (lv.getUint32(0, true) !== LOCAL_SIG) {
      throw new WeightFormatError(this.path, `zip member "${entry.name}" has a bad local header; the archive is corrupt`);
    }
    const start = entry.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (start + entry.compressedSize > this.size) {
      throw new WeightFormatError(this.path, `zip member "${entry.name}" runs past the end of the file; the archive is truncated`);
    }
    this.dataOffsets.set(entry, start);
    return start;
  }

  /** Read a whole member, inflating if needed and checking its CRC-32. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const start = await this.dataOffset(entry);
    const stored = await readExact(this.handle, entry.compressedSize, start, this.path);
    let data = stored;
    if (entry.method === 8) {
      try {
        const out = inflateRawSync(stored, { maxOutputLength: Math.max(1, entry.size) });
        data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch (e) {
        throw new WeightFormatError(this.path, `zip member "${entry.name}" does not inflate (${(e as Error).message}); the archive is corrupt`);
      }
      if (data.byteLength !== entry.size) {
        throw new WeightFormatError(this.path, `zip member "${entry.name}" inflates to ${data.byteLength} bytes, expected ${entry.size}`);
      }
      // Keep the result aligned for typed-array views.
      if (data.byteOffset % 8 !== 0) data = data.slice();
    }
    this.checkCrc(entry, data);
    return data;
  }

  checkCrc(entry: ZipEntry, data: Uint8Array): void {
    if (crc32(data) !== entry.crc32) {
      throw new WeightFormatError(this.path, `zip member "${entry.name}" fails its CRC-32 check; the archive is corrupt, re-download it`);
    }
  }

  async readRange(position: number, length: number): Promise<Uint8Array> {
    return readExact(this.handle, length, position, this.path);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
