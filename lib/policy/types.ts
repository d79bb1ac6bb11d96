/**
 * The shapes of the policy pack: rules are small pure functions over one synthesized Terraform block
 * (a resource, data source, provider, output...) or over a resolved Topology. No cdktf in here, so the
 * same rules run inside the cdktf Aspect and over a synthesized `cdk.tf.json`.
 */
import { Topology } from '../topology/topology';

/** How a finding is reported. Errors fail synth; warnings are shown and let synth finish. */
export enum PolicyLevel {
  ERROR = 'error',
  WARNING = 'warning',
}

/** One synthesized Terraform block, as it appears in the Terraform JSON (snake_case keys, tokens resolved). */
export interface TerraformBlock {
  /**
   * The Terraform type: `aws_instance`, `google_compute_firewall`, ... for resources;
   * `data.<type>` for data sources, `provider.<name>` for providers, `output`, `variable`, `locals`, `terraform`.
   */
  readonly type: string;
  /** The block's body (`//` metadata removed). */
  readonly config: Record<string, unknown>;
  /** Where the block comes from: the construct path, or `<type>.<logical id>` in a JSON document. */
  readonly path: string;
  /**
   * The block's Terraform address, `<type>.<logical id>` (`data.<type>.<logical id>` for a data source): what other
   * blocks' references (`${aws_s3_bucket.<logical id>.id}`) name.
   * @default unknown (a block built by hand)
   */
  readonly address?: string;
}

/** What a rule can know beyond the block itself. */
export interface PolicyContext {
  /**
   * The topology of the fleet the block belongs to (the nearest enclosing construct that exposes one),
   * or undefined for a block outside any fleet. Network rules use it to know the fleet's own ranges.
   */
  readonly fleet?: Topology;
  /**
   * The other blocks of the same stack or document whose types the rule lists in `relatedTypes` (e.g. the public access
   * blocks and policies of S3 buckets, for a rule over a bucket).
   * @default none
   */
  readonly related?: TerraformBlock[];
}

/** A problem a rule found. */
export interface PolicyFinding {
  /** What is wrong, with the attribute that says so (e.g. `metadata_options.http_tokens is "optional"`). */
  readonly message: string;
}

/**
 * What every rule of the pack says about itself. Rules are interfaces with a `check` method (not function-typed
 * fields) so that jsii languages can implement their own; TypeScript object literals with a `check` arrow function
 * still satisfy them.
 */
export interface IPolicyRule {
  /** Stable id, e.g. `DPG-P005`; used in messages and suppressions. */
  readonly id: string;
  readonly level: PolicyLevel;
  /** A few words: what the rule guards. */
  readonly title: string;
  /** Why it matters. */
  readonly explanation: string;
  /** How to fix a finding. */
  readonly fix: string;
}

/** A rule over one synthesized Terraform block. */
export interface IBlockRule extends IPolicyRule {
  /** Always `block`: tells the two kinds of rule apart. */
  readonly kind: 'block';
  /** The block types the rule reads; undefined means every block. */
  readonly types?: string[];
  /**
   * Types of other blocks of the same stack or document the rule needs to see (`PolicyContext.related`): settings that
   * Terraform keeps in separate resources, such as an S3 bucket's public access block.
   * @default none
   */
  readonly relatedTypes?: string[];
  /** The problems of one block (empty when there are none). */
  check(block: TerraformBlock, context: PolicyContext): PolicyFinding[];
}

/** A rule over a resolved fleet Topology (pure function of the Topology). */
export interface ITopologyRule extends IPolicyRule {
  /** Always `topology`: tells the two kinds of rule apart. */
  readonly kind: 'topology';
  /** The problems of a fleet (empty when there are none). */
  check(topology: Topology): PolicyFinding[];
}

/** Any rule of the pack; `kind` tells which. */
export type PolicyRule = IBlockRule | ITopologyRule;

/** A finding with the rule that made it and where it was found. */
export interface PolicyReport {
  readonly ruleId: string;
  readonly level: PolicyLevel;
  /** Construct path (Aspect) or `<type>.<name>` (JSON). */
  readonly path: string;
  readonly message: string;
  /** The one-line text reported: `[ID] title: message. Fix: ...`. */
  readonly text: string;
}

/** `[ID] title: message Fix: fix` — the one line every finding is reported as. */
export function formatFinding(rule: PolicyRule, finding: PolicyFinding): string {
  const message = finding.message.replace(/\s+$/, '');
  return `[${rule.id}] ${rule.title}: ${message}${/[.!?]$/.test(message) ? '' : '.'} Fix: ${rule.fix}`;
}
