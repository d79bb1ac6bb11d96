export * from './spec/types';
export { FleetValidationError, checkDeclaration } from './spec/validate';
export type { Finding } from './spec/normalize';
export { RULES } from './spec/rules';
export type { Rule } from './spec/rules';
export * from './topology/topology';
export { resolveFleet } from './fleet';
export type { ResolvedFleet } from './fleet';
export { DistributedPostgres } from './distributed-postgres';
