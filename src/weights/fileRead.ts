import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { WeightFormatError } from './errors.js';

/** Node refuses single reads above 2 GiB; large tensors are read in pieces of this size. */
const MAX_READ_CHUNK = 1 << 30;

/**
 * Fill `target` from `position` with positional reads on an open handle.
 * A short read (file shorter than its header promised) is a format error, never a hang.
 */
export async function readExactInto(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  filePath: string,
  chunkBytes: number = MAX_READ_CHUNK,
): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const want = Math.min(chunkBytes, target.byteLength - done);
    const { bytesRead } = await handle.read(target, done, want, position + done);
    if (bytesRead === 0) {
      throw new WeightFormatError(
        filePath,
        `file is truncated: expected ${target.byteLength} bytes at offset ${position}, got ${done}; re-download it`,
      );
    }
    done += bytesRead;
  }
}

export async function readExact(handle: FileHandle, length: number, position: number, filePath: string): Promise<Uint8Array> {
  // A Float32Array-aligned backing store lets F32 tensors be returned without a copy.
  const bytes = new Uint8Array(new ArrayBuffer(length));
  await readExactInto(handle, bytes, position, filePath);
  return bytes;
}

function fileSystemError(e: unknown, filePath: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new WeightFormatError(filePath, 'no such file or folder; check the weights path');
  if (code === 'EACCES' || code === 'EPERM') return new WeightFormatError(filePath, 'permission denied; make the weight file readable');
  if (code === 'EISDIR') return new WeightFormatError(filePath, 'is a folder, not a weight file; use openWeights for folders');
  return e;
}

/** Open a weight file for positional reads; a missing or unreadable path is a typed error. */
export async function openForRead(filePath: string): Promise<FileHandle> {
  // stat first: open() on a FIFO blocks until a writer comes, and a device reads forever (issue 18).
  const before = await statPath(filePath);
  if (!before.isFile() && !before.isDirectory()) throw new WeightFormatError(filePath, `is ${specialKind(before)}, not a weight file; pass a regular file`);
  try {
    const handle = await open(filePath, 'r');
    const st = await handle.stat().catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    if (st.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    }
    return handle;
  } catch (e) {
    throw fileSystemError(e, filePath);
  }
}

export async function statPath(filePath: string): Promise<Stats> {
  try {
    return await stat(filePath);
  } catch (e) {
    throw fileSystemError(e, filePath);
  }
}

/** Describes a path that is neither a regular file nor a folder. */
export function specialKind(s: Stats): string {
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}
