/** The policy pack: secure defaults for fleets and any cdktf stack. */
export * from './types';
export { BLOCK_RULES } from './block-rules';
export { TOPOLOGY_RULES, isTopology } from './topology-rules';
export { POLICY_RULES, blocksOf, evaluateBlocks, evaluateTopology, evaluateTerraformJson } from './evaluate';
export type { EvaluateJsonOptions } from './evaluate';
export { PolicyPack, applyPolicyPack, SUPPRESSION_METADATA } from './pack';
export type { PolicyPackOptions, PolicySuppression } from './pack';
