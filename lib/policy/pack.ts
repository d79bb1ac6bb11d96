/**
 * The policy pack as a cdktf Aspect (the cdk-nag v2 shape): it visits every Terraform element and every
 * construct exposing a resolved `topology`, runs the rules, and reports each finding on the construct
 * as an annotation `[ID] title: message. Fix: ...`. Error findings also become validations of the
 * construct, so `cdktf synth` (and `Testing.synth(stack, true)`) fails before any Terraform is written,
 * listing every finding. A finding is silenced only by `PolicyPack.suppress` with a written reason, and
 * the suppression is reported as an info annotation.
 */
import {
  AnnotationMetadataEntryType, Aspects, DefaultTokenResolver, IAspect, StringConcat, TerraformDataSource, TerraformElement,
  TerraformResource, TerraformStack, Token, Tokenization,
} from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { blocksOf, evaluateBlocks, evaluateTopology, POLICY_RULES } from './evaluate';
import { isTopology } from './topology-rules';
import { IBlockRule, PolicyLevel, PolicyReport, PolicyRule, TerraformBlock } from './types';
import { Topology } from '../topology/topology';

/** Metadata type of a suppression entry on a construct. */
export const SUPPRESSION_METADATA = 'cdktf-distributed-postgres/policy-suppression';
/** Per-construct state, keyed by a global symbol so two copies of the library share it. */
const STATE = Symbol.for('cdktf-distributed-postgres/policy-state');
const RESOLVER = new DefaultTokenResolver(new StringConcat());

export interface PolicySuppression {
  readonly ruleId: string;
  readonly reason: string;
}

interface NodeState {
  /** Texts already reported on this construct (a second pack, or a second synth, reports nothing new). */
  readonly reported: Set<string>;
  /** Error findings the construct's validation returns. */
  readonly errors: string[];
}

function stateOf(node: IConstruct): NodeState {
  const holder = node as unknown as { [STATE]?: NodeState };
  if (!holder[STATE]) {
    const state: NodeState = { reported: new Set(), errors: [] };
    Object.defineProperty(holder, STATE, { value: state, enumerable: false });
    // The validation reads the state when validations run (after every aspect), so it lists every error found.
    node.node.addValidation({ validate: () => [...state.errors] });
  }
  return holder[STATE]!;
}

/**
 * Annotations without a stack trace: cdktf records one per annotation by default, and the CLI prints it
 * under each error, which would show our internals to someone who only needs the message.
 */
function annotate(node: IConstruct, level: AnnotationMetadataEntryType, text: string): void {
  node.node.addMetadata(level, text, { stackTrace: false });
}

function topologyOf(node: IConstruct): Topology | undefined {
  try {
    const value = (node as unknown as { topology?: unknown }).topology;
    return isTopology(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface PolicyPackOptions {
  /**
   * The rules to run.
   * @default every rule of the pack (POLICY_RULES)
   */
  readonly rules?: PolicyRule[];
}

/** Secure defaults for fleets (and any stack): see POLICY_RULES and the README's "Policy pack" section. */
export class PolicyPack implements IAspect {
  /**
   * Silences one rule on a construct and everything below it. The reason is required and is reported
   * (as an info annotation) with every finding it silences, so reviewers see what was accepted and why.
   */
  public static suppress(construct: IConstruct, ruleId: string, reason: string): void {
    const known = POLICY_RULES.map((r) => r.id);
    if (typeof ruleId !== 'string' || ruleId.trim() === '' || (/^DPG-P/.test(ruleId) && !known.includes(ruleId))) {
      throw new Error(`PolicyPack.suppress on '${construct.node.path}': unknown rule id ${JSON.stringify(ruleId)}. Fix: use one of ${known.join(', ')}.`);
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new Error(`PolicyPack.suppress on '${construct.node.path}' for ${ruleId}: a reason is required. Fix: say why the finding is acceptable here.`);
    }
    const suppression: PolicySuppression = { ruleId, reason: reason.trim() };
    construct.node.addMetadata(SUPPRESSION_METADATA, suppression);
    annotate(construct, AnnotationMetadataEntryType.INFO, `[${ruleId}] suppressed on this construct and its children. Reason: ${suppression.reason}`);
  }

  /** The suppressions that apply to a construct (its own and its ancestors'), nearest first. */
  public static suppressionsOf(construct: IConstruct): PolicySuppression[] {
    return [...construct.node.scopes].reverse().flatMap((scope) => scope.node.metadata
      .filter((entry) => entry.type === SUPPRESSION_METADATA)
      .map((entry) => entry.data as PolicySuppression));
  }

  public readonly rules: PolicyRule[];
  private readonly related = new WeakMap<TerraformStack, TerraformBlock[]>();

  constructor(options: PolicyPackOptions = {}) {
    // A copy: `rules` is a mutable list (jsii has no read-only arrays), and the shared POLICY_RULES must not change through it.
    this.rules = [...(options.rules ?? POLICY_RULES)];
  }

  public visit(node: IConstruct): void {
    if (TerraformElement.isTerraformElement(node)) this.checkElement(node);
    const topology = topologyOf(node);
    if (topology) this.report(node, evaluateTopology(topology, node.node.path, this.rules));
  }

  private checkElement(element: TerraformElement): void {
    let fragment: unknown;
    try {
      fragment = resolved(element);
    } catch (e) {
      annotate(element, AnnotationMetadataEntryType.WARN, `[DPG-POLICY] the policy pack could not read this element (${e instanceof Error ? e.message : String(e)}); it was not checked.`);
      return;
    }
    const fleet = [...element.node.scopes].reverse().map(topologyOf).find((t) => t !== undefined);
    const blocks = blocksOf(fragment, element.node.path);
    // Only rules that read other blocks of the stack need them: those are resolved once per stack, and only their types.
    const needsRelated = this.rules.some((r) => r.kind === 'block' && r.relatedTypes !== undefined && blocks.some((b) => r.types === undefined || r.types.includes(b.type)));
    const related = needsRelated ? this.relatedBlocks(TerraformStack.of(element)) : undefined;
    this.report(element, evaluateBlocks(blocks, { fleet, ...(related ? { related } : {}) }, this.rules));
  }

  /** The blocks of the stack of every type some rule lists in `relatedTypes` (resolved once per stack). */
  private relatedBlocks(stack: TerraformStack): TerraformBlock[] {
    const cached = this.related.get(stack);
    if (cached) return cached;
    const types = new Set(this.rules.flatMap((r) => (r.kind === 'block' ? (r as IBlockRule).relatedTypes ?? [] : [])));
    const blocks = stack.node.findAll().flatMap((c) => {
      const type = c instanceof TerraformResource ? c.terraformResourceType
        : c instanceof TerraformDataSource ? `data.${c.terraformResourceType}` : undefined;
      if (type === undefined || !types.has(type)) return [];
      try {
        return blocksOf(resolved(c as TerraformElement), c.node.path);
      } catch {
        return [];
      }
    });
    this.related.set(stack, blocks);
    return blocks;
  }

  private report(node: IConstruct, reports: PolicyReport[]): void {
    const state = reports.length > 0 ? stateOf(node) : undefined;
    for (const r of reports) {
      if (state!.reported.has(r.text)) continue;
      state!.reported.add(r.text);
      const suppression = PolicyPack.suppressionsOf(node).find((s) => s.ruleId === r.ruleId);
      if (suppression) {
        annotate(node, AnnotationMetadataEntryType.INFO, `[${r.ruleId}] suppressed: ${r.message}. Reason: ${suppression.reason}`);
      } else if (r.level === PolicyLevel.ERROR) {
        annotate(node, AnnotationMetadataEntryType.ERROR, r.text);
        state!.errors.push(r.text);
      } else {
        annotate(node, AnnotationMetadataEntryType.WARN, r.text);
      }
    }
  }
}

/** An element's Terraform JSON fragment with its tokens resolved (what `cdktf synth` writes for it). */
export function resolved(element: TerraformElement): unknown {
  return resolveWhereNeeded(element.toTerraform(), TerraformStack.of(element));
}

/**
 * `Tokenization.resolve(value)`, with cdktf's resolver called only on the parts that may hold a token. cdktf's resolve
 * makes two closures for every key and value and tests every string against three patterns, so resolving each element
 * of a 100-group fleet once more for the pack cost about as much as the synth's own resolve; most of a fragment is
 * plain JSON. A string may hold a token when it has a marker (`${TfToken[`, `#{TfToken[`, `&{TfToken[`) or a number
 * token (a double near -1.9e+289, written with `e+`); an object when it is resolvable or a key has a marker; an array
 * when an element may hold a token (list tokens are resolved by the whole array). Those parts go to cdktf's resolve
 * whole, the rest is copied, so the result is the same (test/policy/reference-stacks.test.ts compares both on every
 * element of the reference stacks and on tokens of every kind).
 */
function resolveWhereNeeded(value: unknown, scope: TerraformStack): unknown {
  const full = (v: unknown) => Tokenization.resolve(v, { scope, preparing: false, resolver: RESOLVER });
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return mayHoldToken(v) ? full(v) : v;
    if (typeof v === 'number') return Token.isUnresolved(v) ? full(v) : v;
    // What cdktf refuses (a function, a construct, a cycle) is refused with cdktf's own error (its path aside: the
    // pack reports it on the element, and the synth itself then fails with the path).
    if (typeof v === 'function') return full(v);
    if (typeof v !== 'object' || v === null || v instanceof Date) return v;
    if (depth > 100 || Construct.isConstruct(v)) return full(v);
    if (Array.isArray(v)) {
      if (v.some((item) => (typeof item === 'string' && mayHoldToken(item)) || (typeof item === 'number' && Token.isUnresolved(item)))) return full(v);
      const out: unknown[] = [];
      for (const item of v) {
        const r = walk(item, depth + 1);
        if (r !== undefined) out.push(r);
      }
      return out;
    }
    if (Tokenization.isResolvable(v)) return full(v);
    const keys = Object.keys(v);
    if (keys.some(mayHoldToken)) return full(v);
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const r = walk((v as Record<string, unknown>)[k], depth + 1);
      if (r !== undefined) out[k] = r;
    }
    return out;
  };
  return walk(value, 0);
}

function mayHoldToken(text: string): boolean {
  return text.includes('TfToken[') || /e\+\d/.test(text);
}

/**
 * Applies the policy pack to a construct and everything below it (idempotent). Applied to a scope
 * outside any stack (the App), it is applied to every stack already under it, because cdktf runs
 * aspects per stack.
 * @returns the pack (the existing one when the scope already has one)
 */
export function applyPolicyPack(scope: IConstruct, options: PolicyPackOptions = {}): PolicyPack {
  const inStack = scope.node.scopes.some((s) => TerraformStack.isStack(s));
  const targets = inStack ? [scope] : scope.node.findAll().filter((c) => TerraformStack.isStack(c));
  if (targets.length === 0) {
    throw new Error(`applyPolicyPack('${scope.node.path || '(app)'}'): there is no TerraformStack in this scope. Fix: apply it to a stack or construct, after creating it.`);
  }
  let pack: PolicyPack | undefined;
  for (const target of targets) {
    const existing = Aspects.of(target).all.find((a): a is PolicyPack => a instanceof PolicyPack);
    if (existing) {
      pack = pack ?? existing;
      continue;
    }
    pack = pack ?? new PolicyPack(options);
    Aspects.of(target).add(pack);
  }
  return pack!;
}
