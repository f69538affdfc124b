/**
 * T5's relative position buckets and the attention bias they index (HF
 * `T5Attention._relative_position_bucket` / `compute_bias`). The relative position of a key
 * to a query is `key_position - query_position`. Half of the buckets count small distances
 * exactly; the others are logarithmic bins up to `max_distance`, beyond which all distances
 * share the last bucket. Bidirectional (the encoder): separate bucket halves for keys after
 * and before the query. Unidirectional (the decoder): only keys at or before the query count,
 * later ones fall in bucket 0 (they are masked anyway).
 *
 * The log bins are computed in float32 step by step as PyTorch does (`Math.fround` after each
 * operation), so distances on a bin boundary land where HF puts them.
 */
import { np } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";

export interface BucketSpec {
  bidirectional: boolean;
  numBuckets: number;
  maxDistance: number;
}

/** The bucket of one relative position (key − query). */
export function relativePositionBucket(relative: number, spec: BucketSpec): number {
  let numBuckets = spec.numBuckets;
  let bucket = 0;
  let distance: number;
  if (spec.bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    if (relative > 0) bucket += numBuckets;
    distance = Math.abs(relative);
  } else {
    distance = -Math.min(relative, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  if (distance < maxExact) return bucket + distance;
  const f = Math.fround;
  const logRatio = f(Math.log(f(distance / maxExact)));
  const scaled = f(f(logRatio / f(Math.log(spec.maxDistance / maxExact))) * (numBuckets - maxExact));
  return bucket + Math.min(maxExact + Math.trunc(scaled), numBuckets - 1);
}

/**
 * Buckets [queryLength, keyLength] (row-major) for queries at positions `queryOffset + i` and
 * keys at positions `j`: a prefix of P keys before the sequence uses `queryOffset` P.
 */
export function relativeBuckets(queryLength: number, keyLength: number, queryOffset: number, spec: BucketSpec): Int32Array {
  const out = new Int32Array(queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = 0; j < keyLength; j++) out[i * keyLength + j] = relativePositionBucket(j - (queryOffset + i), spec);
  }
  return out;
}

/**
 * The position bias [1, heads, queryLength, keyLength] from a bias table [buckets, heads]
 * (borrowed): each entry is its bucket's row, so the table gets the gradient.
 */
export function positionBias(table: JArray, queryLength: number, keyLength: number, queryOffset: number, spec: BucketSpec): JArray {
  const heads = table.shape[1];
  const buckets = np.array(relativeBuckets(queryLength, keyLength, queryOffset, spec), { dtype: np.int32 });
  return table.ref.slice(buckets).reshape([queryLength, keyLength, heads]).transpose([2, 0, 1]).reshape([1, heads, queryLength, keyLength]);
}
