/** Element types the readers can return. All floating types widen exactly to float32. */
export type WeightDtype = 'F32' | 'F16' | 'BF16' | 'I64';

export interface TensorInfo {
  name: string;
  dtype: WeightDtype;
  shape: number[];
}

/** A lazily read collection of named tensors; nothing is read until a tensor is asked for. */
export interface WeightSource {
  readonly path: string;
  keys(): string[];
  has(key: string): boolean;
  info(key: string): TensorInfo;
  /** Values widened to float32 (exact for F32/F16/BF16); throws WeightDtypeError for I64. */
  readF32(key: string): Promise<Float32Array>;
  /**
   * Rows `rows` of a tensor [n, ...] widened to float32, read from the file row by row where the
   * format allows (an embedding lookup without reading the whole table). Optional: see readRowsF32().
   */
  readRowsF32?(key: string, rows: readonly number[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** What the file readers return: a WeightSource that can also hand out integers and stored bytes. */
export interface RawWeightSource extends WeightSource {
  /** Values of an I64 tensor; throws WeightDtypeError for other dtypes. */
  readI64(key: string): Promise<BigInt64Array>;
  /** The tensor's bytes in C order, little-endian, in its stored dtype. */
  readRaw(key: string): Promise<Uint8Array>;
}

export const DTYPE_ITEMSIZE: Readonly<Record<WeightDtype, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8 };
