/**
 * `dependsOn` for many resources that wait for the same list. cdktf turns each entry into a new token per resource,
 * and each token records a full stack trace: with every machine of a region waiting for every secret of the region,
 * that is machines x secrets traces. The tokens are cdktf's own (the same JSON), made once per list and shared.
 */
import { ITerraformDependable } from 'cdktf';
// Not re-exported by the package index: the function cdktf applies to `dependsOn` entries.
import { dependable } from 'cdktf/lib/tfExpression';

const TOKENS = new WeakMap<readonly ITerraformDependable[], string[]>();

/** The `dependsOn` value for `list` (a fresh array each call; the tokens inside are shared). */
export function sharedDependsOn(list: readonly ITerraformDependable[]): string[] {
  let tokens = TOKENS.get(list);
  // The list may have grown since (its owner adds to it while it is built).
  if (!tokens || tokens.length !== list.length) TOKENS.set(list, tokens = list.map((d) => dependable(d)));
  return [...tokens];
}
