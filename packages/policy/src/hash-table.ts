// A read-only table from 30-bit hashes (mapKeyHash) to buckets, for the per-access lookups: open
// addressing over an Int32Array, so a lookup is a multiply and a few typed-array reads with no call
// into the runtime. Against a `Map` keyed by the same numbers it saved ~1 % of decide at 100 rules and
// ~5 % at 10,000 (wide trie nodes), CPU time A/B (bench/RESULTS.md, policy-fast).

export class HashTable<T> {
  /** Slot i holds key + 1 (0 = empty); values[i] is its bucket. */
  readonly #slots: Int32Array;
  readonly #values: (T | undefined)[];
  readonly #shift: number;
  readonly #mask: number;

  /** `entries`: hash (0 ≤ hash < 2^30, see mapKeyHash) → bucket; the table does not see later changes. */
  constructor(entries: ReadonlyMap<number, T>) {
    let bits = 3;
    while (1 << bits < entries.size * 2) bits++;
    this.#slots = new Int32Array(1 << bits);
    this.#values = new Array<T | undefined>(1 << bits).fill(undefined);
    this.#shift = 32 - bits;
    this.#mask = (1 << bits) - 1;
    for (const [key, value] of entries) {
      let i = this.#home(key);
      while (this.#slots[i] !== 0) i = (i + 1) & this.#mask;
      this.#slots[i] = key + 1;
      this.#values[i] = value;
    }
  }

  /** The bucket for `key`, or undefined. Terminates: at most half the slots are taken. */
  get(key: number): T | undefined {
    const slots = this.#slots;
    const want = key + 1;
    let i = this.#home(key);
    for (;;) {
      const k = slots[i]!;
      if (k === want) return this.#values[i];
      if (k === 0) return undefined;
      i = (i + 1) & this.#mask;
    }
  }

  /** Fibonacci hashing: the polynomial hashes' low bits alone cluster on similar names. */
  #home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.#shift;
  }
}
