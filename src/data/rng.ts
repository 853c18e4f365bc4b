/**
 * Seeded PRNGs for the data layer, in plain 32-bit arithmetic (no BigInt on the hot path).
 *
 * - `SplitMix64` (Steele, Lea & Flood 2014) drives the per-user random split. Its stream and its
 *   bounded draw (rejection, then modulo) are the ones of ../shared/datasets/tools/split.py, so a
 *   split made here with seed 2026 is the split that tool wrote.
 * - `Xoshiro128ss` (xoshiro128**, Blackman & Vigna), seeded from SplitMix64, drives the synthetic
 *   generator, which needs tens of millions of draws per second.
 */

const TWO_POW_32 = 4294967296;

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

export class SplitMix64 {
  private hi: number;
  private lo: number;
  /** The last output, as two uint32 halves (read after `next()`). */
  outHi = 0;
  outLo = 0;

  /** `seed` is a non-negative safe integer (or a BigInt), taken modulo 2^64. */
  constructor(seed: number | bigint) {
    const s = BigInt.asUintN(64, BigInt(seed));
    this.hi = Number(s >> 32n);
    this.lo = Number(s & 0xffffffffn);
  }

  /** Advances the stream; the 64-bit output is left in outHi/outLo. */
  next(): void {
    // state += 0x9E3779B97F4A7C15
    const lo = this.lo + 0x7f4a7c15;
    this.lo = lo >>> 0;
    this.hi = (this.hi + 0x9e3779b9 + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    let zh = this.hi;
    let zl = this.lo;
    // z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9
    zl = (zl ^ ((zl >>> 30) | (zh << 2))) >>> 0;
    zh = (zh ^ (zh >>> 30)) >>> 0;
    let h = (mulHigh32(zl, 0x1ce4e5b9) + Math.imul(zl, 0xbf58476d) + Math.imul(zh, 0x1ce4e5b9)) >>> 0;
    zl = Math.imul(zl, 0x1ce4e5b9) >>> 0;
    zh = h;
    // z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
    zl = (zl ^ ((zl >>> 27) | (zh << 5))) >>> 0;
    zh = (zh ^ (zh >>> 27)) >>> 0;
    h = (mulHigh32(zl, 0x133111eb) + Math.imul(zl, 0x94d049bb) + Math.imul(zh, 0x133111eb)) >>> 0;
    zl = Math.imul(zl, 0x133111eb) >>> 0;
    zh = h;
    // z ^ (z >>> 31)
    this.outLo = (zl ^ ((zl >>> 31) | (zh << 1))) >>> 0;
    this.outHi = (zh ^ (zh >>> 31)) >>> 0;
  }

  /** The next output as a BigInt (for tests and seeding). */
  nextBigInt(): bigint {
    this.next();
    return (BigInt(this.outHi) << 32n) | BigInt(this.outLo);
  }

  /** The next output's high 32 bits as a uint32. */
  nextUint32(): number {
    this.next();
    return this.outHi;
  }

  /** Uniform integer in [0, bound), bound in [1, 2^32]: rejection of the top 2^64 mod bound values, then modulo. */
  below(bound: number): number {
    if (bound < 0x200000) {
      // 2^64 mod bound, exact in doubles because (2^32 mod bound)^2 < 2^42.
      const r32 = TWO_POW_32 % bound;
      const r64 = (r32 * r32) % bound;
      const loLimit = TWO_POW_32 - r64;
      for (;;) {
        this.next();
        if (this.outHi !== 0xffffffff || this.outLo < loLimit) {
          return (((this.outHi % bound) * TWO_POW_32) + this.outLo) % bound;
        }
      }
    }
    const b = BigInt(bound);
    const limit = (1n << 64n) - ((1n << 64n) % b);
    for (;;) {
      const r = this.nextBigInt();
      if (r < limit) return Number(r % b);
    }
  }
}

export class Xoshiro128ss {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | bigint) {
    const sm = new SplitMix64(seed);
    sm.next();
    this.s0 = sm.outHi | 0;
    this.s1 = sm.outLo | 0;
    sm.next();
    this.s2 = sm.outHi | 0;
    this.s3 = sm.outLo | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uint32. */
  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Integer in [0, bound) by multiply-floor (bias below bound / 2^32, negligible for data generation). */
  below(bound: number): number {
    return Math.floor(this.nextFloat() * bound);
  }

  /** Standard normal deviate (Box-Muller). */
  nextNormal(): number {
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
