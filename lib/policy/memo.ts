/**
 * A bounded cache for the pack's pure text analyses. A fleet's machines carry mostly the same files (scripts, units,
 * SQL), and two rules read the same user-data, so the same text is decoded, parsed and scanned over and over; the
 * result of a pure function of that text is the same every time. Bounded by characters held, least recently used
 * out first; keys longer than `maxKeyChars` are not held at all: a fleet's large texts are each machine's own, and
 * holding them only moves them to the old generation, which raised peak memory.
 */
export class TextMemo<R> {
  private readonly entries = new Map<string, R>();
  private chars = 0;

  constructor(private readonly maxChars: number, private readonly maxKeyChars = maxChars / 4) {}

  /** `compute()`'s value for `key` (the full input of a pure computation), computed once while it stays cached. */
  public get(key: string, compute: () => R): R {
    const hit = this.entries.get(key);
    if (hit !== undefined || this.entries.has(key)) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit as R);
      return hit as R;
    }
    const value = compute();
    if (key.length > this.maxKeyChars) return value;
    this.entries.set(key, value);
    this.chars += key.length;
    for (const [k] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(k);
      this.chars -= k.length;
    }
    return value;
  }
}
