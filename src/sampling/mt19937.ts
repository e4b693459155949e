/**
 * 32-bit Mersenne Twister (MT19937) with the standard seeding, the engine behind
 * `torch.Generator('cpu')`. Torch keeps only the low 32 bits of a manual seed, so do we.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class MT19937 {
  private readonly state = new Uint32Array(N);
  private position = N;

  constructor(seed: number | bigint) {
    const s = typeof seed === 'bigint' ? Number(BigInt.asUintN(32, seed)) : seedLow32(seed);
    this.state[0] = s;
    for (let i = 1; i < N; i++) {
      const prev = this.state[i - 1] ^ (this.state[i - 1] >>> 30);
      this.state[i] = Math.imul(1812433253, prev) + i;
    }
  }

  /** Next raw 32-bit output as an unsigned integer. */
  nextUint32(): number {
    if (this.position >= N) this.twist();
    let y = this.state[this.position++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & UPPER_MASK) | (mt[(i + 1) % N] & LOWER_MASK);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.position = 0;
  }
}

function seedLow32(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative integer below 2^53 (or a bigint), got ${seed}`);
  }
  return Number(BigInt.asUintN(32, BigInt(seed)));
}
