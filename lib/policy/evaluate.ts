/**
 * Runs the rules without cdktf: over Terraform JSON fragments (one element's `toTerraform()`, or a
 * whole synthesized `cdk.tf.json`) and over a Topology. The Aspect in pack.ts uses the same functions.
 */
import { BLOCK_RULES } from './block-rules';
import { TOPOLOGY_RULES } from './topology-rules';
import { IBlockRule, formatFinding, PolicyContext, PolicyReport, PolicyRule, TerraformBlock, ITopologyRule } from './types';
import { Topology } from '../topology/topology';

/** Every rule of the pack, in id order. */
export const POLICY_RULES: readonly PolicyRule[] = [...BLOCK_RULES, ...TOPOLOGY_RULES].sort((a, b) => a.id.localeCompare(b.id));

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function withoutMetadata(config: Record<string, unknown>): Record<string, unknown> {
  const { ['//']: _metadata, ...rest } = config;
  return rest;
}

function metadataPath(config: Record<string, unknown>): string | undefined {
  const path = record(record(config['//'])?.metadata)?.path;
  return typeof path === 'string' ? path : undefined;
}

/**
 * The blocks of a Terraform JSON document or fragment. `path` names every block (the construct path
 * of the element the fragment came from); without it, blocks are named `<type>.<name>` (or by the
 * construct path cdktf records in their `//` metadata).
 */
export function blocksOf(document: unknown, path?: string): TerraformBlock[] {
  const doc = record(document) ?? {};
  const out: TerraformBlock[] = [];
  const add = (type: string, name: string, config: unknown, address?: string): void => {
    const body = record(config);
    if (!body) return;
    out.push({ type, config: withoutMetadata(body), path: path ?? metadataPath(body) ?? name, ...(address ? { address } : {}) });
  };
  for (const section of ['resource', 'data'] as const) {
    for (const [type, byName] of Object.entries(record(doc[section]) ?? {})) {
      for (const [name, config] of Object.entries(record(byName) ?? {})) {
        const blockType = section === 'data' ? `data.${type}` : type;
        add(blockType, `${blockType}.${name}`, config, `${blockType}.${name}`);
      }
    }
  }
  for (const [name, configs] of Object.entries(record(doc.provider) ?? {})) {
    (Array.isArray(configs) ? configs : [configs]).forEach((config, i) => add(`provider.${name}`, `provider.${name}[${i}]`, config));
  }
  for (const section of ['output', 'variable'] as const) {
    for (const [name, config] of Object.entries(record(doc[section]) ?? {})) add(section, `${section}.${name}`, config);
  }
  if (record(doc.locals)) add('locals', 'locals', doc.locals);
  if (record(doc.terraform)) add('terraform', 'terraform', doc.terraform);
  return out;
}

function report(rule: PolicyRule, path: string, message: string): PolicyReport {
  return { ruleId: rule.id, level: rule.level, path, message, text: formatFinding(rule, { message }) };
}

function appliesTo(rule: IBlockRule, type: string): boolean {
  return rule.types === undefined || rule.types.includes(type);
}

/**
 * Runs the block rules over blocks. A rule that throws reports itself instead of hiding the others. A rule with
 * `relatedTypes` sees the blocks of those types among `context.related` (when given: the Aspect passes the stack's),
 * else among `blocks` (a whole document).
 */
export function evaluateBlocks(blocks: TerraformBlock[], context: PolicyContext, rules: readonly PolicyRule[] = POLICY_RULES): PolicyReport[] {
  const blockRules = rules.filter((r): r is IBlockRule => r.kind === 'block');
  const contextOf = (rule: IBlockRule): PolicyContext => (rule.relatedTypes === undefined ? context
    : { ...context, related: (context.related ?? blocks).filter((b) => rule.relatedTypes!.includes(b.type)) });
  return blocks.flatMap((b) => blockRules.filter((r) => appliesTo(r, b.type)).flatMap((rule) => {
    try {
      return rule.check(b, contextOf(rule)).map((x) => report(rule, b.path, x.message));
    } catch (e) {
      return [report(rule, b.path, `${b.type} could not be checked (${e instanceof Error ? e.message : String(e)})`)];
    }
  }));
}

/** Runs the topology rules over a Topology. */
export function evaluateTopology(topology: Topology, path: string, rules: readonly PolicyRule[] = POLICY_RULES): PolicyReport[] {
  return rules.filter((r): r is ITopologyRule => r.kind === 'topology').flatMap((rule) => {
    try {
      return rule.check(topology).map((x) => report(rule, path, x.message));
    } catch (e) {
      return [report(rule, path, `the topology could not be checked (${e instanceof Error ? e.message : String(e)})`)];
    }
  });
}

export interface EvaluateJsonOptions {
  /** The fleet the document belongs to: network rules then know its CIDRs, and the topology rules run too. */
  readonly topology?: Topology;
  /** @default POLICY_RULES */
  readonly rules?: readonly PolicyRule[];
}

/** Every finding of a synthesized Terraform JSON document (e.g. `cdktf.out/stacks/<stack>/cdk.tf.json`). */
export function evaluateTerraformJson(document: unknown, options: EvaluateJsonOptions = {}): PolicyReport[] {
  const rules = options.rules ?? POLICY_RULES;
  const findings = evaluateBlocks(blocksOf(document), { fleet: options.topology }, rules);
  if (options.topology) findings.push(...evaluateTopology(options.topology, options.topology.fleetName, rules));
  return findings;
}
