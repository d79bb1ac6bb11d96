/**
 * The smallest list of CIDR blocks covering exactly the same addresses (adjacent sibling blocks merge, contained blocks
 * drop). Security group rules count against a quota of 60 per group: a fleet of many groups carved from one range
 * still needs only a few rules, none wider than the fleet itself.
 */
import { formatCidr, Ipv4Cidr, parseCidr, sizeOf } from './cidr';

export function summarizeCidrs(cidrs: string[]): string[] {
  // Every node group asks for the same fleet-wide lists: compute each once.
  const key = cidrs.join(' ');
  const known = memo.get(key);
  if (known) return [...known];
  const result = summarize(cidrs);
  memo.set(key, result);
  return [...result];
}

const memo = new Map<string, string[]>();

function summarize(cidrs: string[]): string[] {
  let blocks: Ipv4Cidr[] = cidrs.map((c) => {
    const parsed = parseCidr(c);
    if (!parsed) throw new Error(`summarizeCidrs: '${c}' is not a CIDR block`);
    return parsed;
  });
  for (;;) {
    blocks = blocks
      .sort((a, b) => a.base - b.base || a.prefix - b.prefix)
      .filter((b, i, all) => !all.slice(0, i).some((a) => a.base <= b.base && b.base + sizeOf(b) <= a.base + sizeOf(a)));
    const merged: Ipv4Cidr[] = [];
    let changed = false;
    for (let i = 0; i < blocks.length; i++) {
      const a = blocks[i];
      const b = blocks[i + 1];
      const parentSize = sizeOf(a) * 2;
      if (b && a.prefix > 0 && a.prefix === b.prefix && a.base % parentSize === 0 && b.base === a.base + sizeOf(a)) {
        merged.push({ base: a.base, prefix: a.prefix - 1 });
        i++;
        changed = true;
      } else {
        merged.push(a);
      }
    }
    blocks = merged;
    if (!changed) return blocks.map(formatCidr);
  }
}
