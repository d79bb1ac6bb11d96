/**
 * `cdktf-distributed-postgres/pipeline`: the library's pure stages as plain TypeScript functions, for programs and
 * tests that want a stage's output without synthesizing a stack. None of them needs cdktf:
 *
 * - declaration -> topology: `checkDeclaration` (every finding, no throw), `resolveFleet` (throws
 *   `FleetValidationError`, returns the normalized spec and the topology), the rule table `RULES`;
 * - topology -> machines: `machinesOf`, `renderCloudConfig` (one machine's `#cloud-config`), `renderMachineFiles`
 *   (every file it holds once its scripts document is fetched), `encodeUserData` (as each cloud takes it),
 *   `topologyToMermaid`;
 * - topology -> monitoring: `renderAlertRules` (the Prometheus rules file synth writes), `alertRules` (the same as
 *   data), `ALERT_THRESHOLDS`, `CONTRACT_METRICS` (the metric names the rules may read); the exporters' ports are the
 *   topology's (`topology.monitoring`, defaults in the root's `PORTS`);
 * - Terraform JSON -> findings: `evaluateTerraformJson`, `evaluateTopology` (the policy pack without an Aspect);
 * - Terraform JSON -> a snapshot a reviewer can read: `toReviewableJson` (user-data, mesh and scripts documents decoded, cdktf metadata dropped).
 *
 * These are not part of the jsii API (jsii has no free functions): the construct, props and policy pack are in the
 * package root. Types such as `DistributedPostgresProps` and `Topology` are exported from the root.
 */
export { checkDeclaration } from '../declaration/validate';
export { RULES } from '../declaration/rules';
export type { Rule } from '../declaration/rules';
export type { EtcdSpec, FleetSpec, GeoshardSpec, GroupSpec } from '../declaration/spec';
export { MANAGED_PARAMETERS } from '../declaration/managed-parameters';
export { knownRegions, zonesOf } from '../declaration/regions';
export { resolveFleet } from '../topology/fleet';
export type { ResolvedFleet } from '../topology/fleet';
export {
  renderCloudConfig, renderMachineFiles, machinesOf, encodeUserData, AWS_USER_DATA_LIMIT, GCP_METADATA_VALUE_LIMIT, GCP_DATA_DISK_DEVICE_NAME,
} from '../render';
export type { EncodedUserData, MachineFile, MachineRole, MachineSummary } from '../render';
export { topologyToMermaid } from '../diagram/mermaid';
export { ALERT_THRESHOLDS, alertRules, CONTRACT_METRICS, DATA_MOUNTPOINT, EXPORTER_UP_RECORD, renderAlertRules } from '../monitoring/alerts';
export type { AlertingRule, AlertRulesFile, AlertSeverity, RecordingRule } from '../monitoring/alerts';
export { evaluateTerraformJson, evaluateTopology } from '../policy';
export type { EvaluateJsonOptions } from '../policy';
export { summarizeCidrs } from '../net/cidr-summary';
export { toReviewableJson } from './reviewable';
export type { ReviewableJsonOptions, ReviewableMeshDocument, ReviewableScriptsDocument, ReviewableUserData } from './reviewable';
