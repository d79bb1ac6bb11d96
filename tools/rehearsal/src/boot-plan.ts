/**
 * When each host starts: a cloud boots the machines of one apply seconds to minutes apart, in no set order. The plan
 * is a pure function of its seed, so a failed run can be replayed with `--seed`.
 */
import { BootOrder } from './report';

export interface PlannedStart {
  readonly name: string;
  /** Seconds after the first host's start. */
  readonly startOffsetSeconds: number;
}

/** mulberry32: a small, well-mixed 32-bit PRNG; enough to shuffle a few hosts reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `together`: every host at offset 0, in the stack's order. `shuffle`: a random order; the first host starts at 0, the
 * others at random offsets up to `spreadSeconds` (one tenth of a second resolution), sorted by start.
 */
export function bootPlan(names: readonly string[], order: BootOrder, spreadSeconds: number, seed: number): PlannedStart[] {
  if (order === 'together') return names.map((name) => ({ name, startOffsetSeconds: 0 }));
  const random = seededRandom(seed);
  const shuffled = [...names];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const offsets = shuffled.map((_, i) => (i === 0 ? 0 : Math.round(random() * spreadSeconds * 10) / 10)).sort((a, b) => a - b);
  return shuffled.map((name, i) => ({ name, startOffsetSeconds: offsets[i] }));
}

/** A fresh seed when none is given (printed in the report, so the run can be replayed). */
export function newSeed(): number {
  return Math.floor(Math.random() * 1_000_000_000);
}
