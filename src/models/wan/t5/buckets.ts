/**
 * T5's bidirectional relative-position buckets. Half of the buckets hold keys to the right
 * of the query; within a half, distances below `maxExact` get their own bucket and longer
 * ones share log-spaced buckets up to `maxDistance`.
 *
 * The official code evaluates the log formula on float32 tensors and truncates; we round
 * every intermediate to float32 the same way (|rel| = 16, 32, 64 land exactly on integers
 * in float32, so a double-precision formula would agree there too, but only by luck).
 */
const f = Math.fround;

/** Bucket of one distance magnitude, ignoring the direction half. */
export function distanceBucket(distance: number, numBuckets: number, maxDistance: number): number {
  const half = numBuckets / 2;
  const maxExact = half / 2;
  if (distance < maxExact) return distance;
  const ratio = f(f(Math.log(f(distance / maxExact))) / f(Math.log(maxDistance / maxExact)));
  const large = maxExact + Math.trunc(f(ratio * (half - maxExact)));
  return Math.min(large, half - 1);
}

/** bucket(k − q) for the bidirectional encoder. */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance: number): number {
  return (rel > 0 ? numBuckets / 2 : 0) + distanceBucket(Math.abs(rel), numBuckets, maxDistance);
}

/**
 * Buckets of every distance 0..maxDistance. Beyond maxDistance the bucket no longer changes,
 * so this small table (indexed by min(|rel|, maxDistance)) is all a graph needs for any length.
 */
export function distanceBucketTable(numBuckets: number, maxDistance: number): number[] {
  return Array.from({ length: maxDistance + 1 }, (_, n) => distanceBucket(n, numBuckets, maxDistance));
}

/** The [L, L] bucket matrix, row = query, column = key. */
export function relativeBucketMatrix(length: number, numBuckets: number, maxDistance: number): BigInt64Array {
  const out = new BigInt64Array(length * length);
  for (let q = 0; q < length; q++) for (let k = 0; k < length; k++) out[q * length + k] = BigInt(relativePositionBucket(k - q, numBuckets, maxDistance));
  return out;
}
