/** The pure pipeline without cdktf: declaration -> validated spec -> topology. */
import { FleetSpec } from '../declaration/spec';
import { DistributedPostgresProps } from '../declaration/props';
import { declarationWarnings, validateDeclaration } from '../declaration/validate';
import { resolveTopology } from './resolve';
import { Topology } from './topology';

export interface ResolvedFleet {
  readonly spec: FleetSpec;
  readonly topology: Topology;
  readonly warnings: string[];
}

/**
 * Validates a declaration (throwing FleetValidationError with every problem) and resolves its topology.
 * @param constructPath how errors name the declaration (the construct path when called from the construct)
 * @param defaultName the fleet name when `props.name` is not given
 */
export function resolveFleet(props: DistributedPostgresProps, constructPath: string, defaultName: string): ResolvedFleet {
  const spec = validateDeclaration(props, constructPath, defaultName);
  return { spec, topology: resolveTopology(spec), warnings: declarationWarnings(spec) };
}
