/**
 * A fixed-memory latency histogram (HDR-like, log-linear buckets of microseconds, under 1 %
 * error): workers record millions of samples into 1,792 counters and report them sparsely, the
 * runner merges them and reads percentiles.
 * @module
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = 28 * SUB;

export type SparseHistogram = [bucket: number, count: number][];

function bucketOf(micros: number): number {
  const v = Math.max(0, Math.min(0x7fffffff, Math.round(micros)));
  if (v < 2 * SUB) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return (shift + 1) * SUB + (v >>> shift) - SUB;
}

function lowestOf(bucket: number): number {
  if (bucket < 2 * SUB) return bucket;
  const shift = (bucket >>> SUB_BITS) - 1;
  return (bucket - shift * SUB) * 2 ** shift;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;

  recordMs(ms: number): void {
    this.counts[bucketOf(ms * 1000)]!++;
    this.total++;
  }

  merge(sparse: SparseHistogram): void {
    for (const [bucket, count] of sparse) {
      this.counts[bucket]! += count;
      this.total += count;
    }
  }

  toSparse(): SparseHistogram {
    const out: SparseHistogram = [];
    this.counts.forEach((count, bucket) => count > 0 && out.push([bucket, count]));
    return out;
  }

  /** The value (ms) at percentile `p` (0-100), the middle of its bucket; NaN when empty. */
  percentileMs(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return (lowestOf(bucket) + lowestOf(bucket + 1)) / 2 / 1000;
    }
    return NaN;
  }
}
