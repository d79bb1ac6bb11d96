/** What a validation rule is, and the small helpers the rules share. */
import { Finding, FleetSpec } from '../spec';

export interface Rule {
  readonly id: string;
  /** One line: what the rule protects. */
  readonly description: string;
  readonly check: (spec: FleetSpec) => Finding[];
}

export function finding(rule: string, path: string, message: string): Finding {
  return { rule, path, message };
}

export function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

export function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}
