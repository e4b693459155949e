import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array) => number;

let table: Uint32Array | undefined;

/** Table-driven CRC-32 for Node versions before 20.15, which lack zlib.crc32. */
export function crc32Portable(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: Crc32 }).crc32;

/** CRC-32 (the zip polynomial) of `data`, as an unsigned 32-bit number. */
export function crc32(data: Uint8Array): number {
  return native ? native(data) >>> 0 : crc32Portable(data);
}
