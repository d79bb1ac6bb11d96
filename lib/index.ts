/**
 * The public API of cdktf-distributed-postgres: the construct, its props and enums, the topology it exposes, and the
 * policy pack. The pure stages of the pipeline (resolve, render, evaluate a synthesized document) are TypeScript-only
 * and live in `cdktf-distributed-postgres/pipeline`.
 */
export * from './declaration/props';
export { MachineImage, MachineImageKind } from './declaration/machine-image';
export { BackupSchedule, BackupScheduleKind, Weekday } from './declaration/backup-schedule';
export { DistributedPostgres } from './distributed-postgres';
export type { NodeGroupEndpoint } from './distributed-postgres';
export { FleetValidationError } from './declaration/validate';
export type { Finding } from './declaration/spec';
export * from './topology/topology';
export { PolicyPack, applyPolicyPack, POLICY_RULES, PolicyLevel } from './policy';
export type {
  PolicyPackOptions, PolicySuppression, IPolicyRule, IBlockRule, ITopologyRule, PolicyRule, PolicyReport, PolicyFinding,
  PolicyContext, TerraformBlock,
} from './policy';
