/**
 * xoshiro256** seeded through SplitMix64 per (seed, stream): the same numbers as the
 * native dtlns::Rng (native/kernels/rng.hpp), so the TS references make the native
 * kernels' random choices. BigInt arithmetic: for references and tests, not hot loops.
 */
const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, k: bigint): bigint {
  return ((x << k) | (x >> (64n - k))) & MASK;
}

export class Xoshiro256ss {
  private s: [bigint, bigint, bigint, bigint];

  constructor(seed: number | bigint, stream: number | bigint = 0) {
    let state = (BigInt(seed) ^ ((0xd1b54a32d192ed03n * (BigInt(stream) + 1n)) & MASK)) & MASK;
    const next = (): bigint => {
      state = (state + 0x9e3779b97f4a7c15n) & MASK;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
      return z ^ (z >> 31n);
    };
    this.s = [next(), next(), next(), next()];
  }

  next(): bigint {
    const s = this.s;
    const result = (rotl((s[1] * 5n) & MASK, 7n) * 9n) & MASK;
    const t = (s[1] << 17n) & MASK;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45n);
    return result;
  }

  /** Uniform integer in [0, n), 1 <= n < 2^32 (Lemire's multiply-shift, as native). */
  below(n: number): number {
    const bn = BigInt(n);
    let m = (this.next() >> 32n) * bn;
    let low = m & 0xffffffffn;
    if (low < bn) {
      const threshold = ((1n << 32n) - bn) % bn;
      while (low < threshold) {
        m = (this.next() >> 32n) * bn;
        low = m & 0xffffffffn;
      }
    }
    return Number(m >> 32n);
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform64(): number {
    return Number(this.next() >> 11n) / 9007199254740992;
  }
}
