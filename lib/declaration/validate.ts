/** Checks a declaration as a whole: normalize it, run every rule, and fail with one error listing every problem. */
import { normalize } from './normalize';
import { DistributedPostgresProps, ReplicationEngine } from './props';
import { runRules } from './rules';
import { Finding, FleetSpec } from './spec';

/**
 * Thrown by the `DistributedPostgres` constructor (and by `resolveFleet`) when a declaration breaks rules, before any
 * resource is created: nothing reaches synth. Its message lists every finding with the construct path and the fix;
 * `findings` carries them for programs.
 *
 * TypeScript/JavaScript only (`@jsii ignore`): jsii classes cannot extend `Error`. In Python, Java, C# and Go the
 * constructor's failure arrives as the jsii runtime's exception with the same message.
 *
 * @jsii ignore
 */
export class FleetValidationError extends Error {
  public readonly findings: Finding[];
  public readonly constructPath: string;

  constructor(constructPath: string, findings: Finding[]) {
    const lines = findings.map((x, i) => `  ${i + 1}. [${x.rule}] ${x.path}: ${x.message}`);
    super(`DistributedPostgres '${constructPath}' has ${findings.length} problem(s) in its declaration; nothing was synthesized.\n${lines.join('\n')}`);
    this.name = 'FleetValidationError';
    this.findings = findings;
    this.constructPath = constructPath;
    // The stack of our internals helps nobody fix a declaration: the message says everything.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Normalizes and checks a declaration: every problem found, all at once. */
export function checkDeclaration(props: DistributedPostgresProps, defaultName: string): { spec: FleetSpec; findings: Finding[] } {
  const { spec, findings } = normalize(props, defaultName);
  return { spec, findings: [...findings, ...runRules(spec)] };
}

/** Normalizes and validates; throws FleetValidationError listing every problem. */
export function validateDeclaration(props: DistributedPostgresProps, constructPath: string, defaultName: string): FleetSpec {
  const { spec, findings } = checkDeclaration(props, defaultName);
  if (findings.length > 0) throw new FleetValidationError(constructPath, findings);
  return spec;
}

/** Things that are allowed but deserve a reviewer's attention. */
export function declarationWarnings(spec: FleetSpec): string[] {
  const warnings: string[] = [];
  if (spec.replication.engine === ReplicationEngine.NATIVE && spec.nodeGroups.length > 1) {
    warnings.push('native logical replication has no conflict resolution: a row written in two node groups stops the subscription ' +
      'until an operator intervenes. Write each row in exactly one node group (geoshards or partitioned ownership).');
  }
  return warnings;
}
