/**
 * A bounded cache of pure functions of a text (the policy pack's analyses, the render's YAML texts and gzip outputs).
 * A fleet's machines carry mostly the same files (scripts, units, SQL), and a process may resolve a fleet again, so the
 * same text is decoded, parsed, written or compressed over and over; the result of a pure function of that text is the
 * same every time. Bounded by the weight held (the keys' characters unless `weigh` says otherwise), least recently
 * used out first; keys longer than `maxKeyChars` are not held at all: a fleet's large texts are each machine's own,
 * and holding them only moves them to the old generation, which raised peak memory.
 */
export class TextMemo<R> {
  private readonly entries = new Map<string, R>();
  private readonly weights = new Map<string, number>();
  private held = 0;

  /**
   * @param maxWeight what may be held in all (characters of the keys by default)
   * @param maxKeyChars longer keys are not held
   * @param weigh an entry's weight (e.g. the bytes of its value when the key is a hash)
   */
  constructor(private readonly maxWeight: number, private readonly maxKeyChars = maxWeight / 4,
    private readonly weigh: (key: string, value: R) => number = (key) => key.length) {}

  /** `compute()`'s value for `key` (the full input of a pure computation), computed once while it stays cached. */
  public get(key: string, compute: () => R): R {
    // A key that would not be held is not looked up either: hashing a long text costs as much as a pass over it.
    if (key.length > this.maxKeyChars) return compute();
    const hit = this.entries.get(key);
    if (hit !== undefined || this.entries.has(key)) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit as R);
      return hit as R;
    }
    const value = compute();
    const weight = this.weigh(key, value);
    this.entries.set(key, value);
    this.weights.set(key, weight);
    this.held += weight;
    for (const [k] of this.entries) {
      if (this.held <= this.maxWeight) break;
      this.entries.delete(k);
      this.held -= this.weights.get(k)!;
      this.weights.delete(k);
    }
    return value;
  }
}
