// A small seeded PRNG for the fuzz targets (sfc32, seeded through splitmix32): every iteration of a
// run draws from its own generator, derived from the run's seed and the iteration's number, so that
// one iteration can be replayed alone.

/** splitmix32: spreads a 32-bit seed over the generator's state. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** The seed of iteration `iteration` of a run seeded with `seed`. */
export function iterationSeed(seed: number, iteration: number): number {
  const mix = splitmix32(seed ^ Math.imul(iteration + 1, 0x27d4eb2d));
  mix();
  return mix();
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const init = splitmix32(seed);
    this.a = init();
    this.b = init();
    this.c = init();
    this.d = init();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0x100000000 ? Math.floor((this.u32() / 0x100000000) * n) : Math.floor(this.float() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  float(): number {
    return (this.u32() * 0x200000 + (this.u32() >>> 11)) / 2 ** 53;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A size skewed towards small values: mostly under 16, sometimes up to `max`. */
  size(max: number): number {
    const r = this.float();
    if (r < 0.5) return this.int(Math.min(16, max) + 1);
    if (r < 0.85) return this.int(Math.min(256, max) + 1);
    return this.int(max + 1);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
