/** Reading PromQL expressions in tests: which metric names an expression reads, and its selectors. */

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);

/**
 * The metric names an expression reads: identifiers that are not functions or aggregations (followed by `(`), keywords,
 * label names (inside `{}` and the label lists of `by`, `on`, `ignoring`, `group_left`...) or inside string literals.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = s.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/** Every `metric{matchers}` selector of an expression, as [metric, matchers]. */
export function selectors(expr: string): [string, string][] {
  return [...expr.matchAll(/(?<![A-Za-z0-9_:])([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)].map((m) => [m[1], m[2]]);
}
