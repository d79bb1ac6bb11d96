/**
 * The company's tags and labels on every resource of the fleet that takes them: an Aspect over the construct's tree,
 * so a resource added later cannot be missed. The construct's own tags win where a key is both (validation refuses
 * such keys). Nested blocks (an AWS machine's root disk, a GCP machine's boot disk) are tagged where they are made.
 */
import { IAspect, TerraformResource } from 'cdktf';
import { IConstruct } from 'constructs';
import { Governance } from '../topology/topology';

/** A resource class with a settable map attribute (`tags` / `labels`) and its `...Input` getter. */
type Tagged = TerraformResource & Record<string, unknown>;

export class GovernanceTags implements IAspect {
  constructor(private readonly governance: Governance) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const type = node.terraformResourceType;
    if (type.startsWith('aws_')) this.merge(node as Tagged, 'tags', this.governance.awsTags);
    else if (type.startsWith('google_')) this.merge(node as Tagged, 'labels', this.governance.gcpLabels);
  }

  private merge(node: Tagged, attribute: 'tags' | 'labels', extra: Record<string, string>): void {
    // Only resources whose map attribute exists (an `...Input` getter): e.g. a GCP machine's `tags` is a list.
    if (Object.keys(extra).length === 0 || !(`${attribute}Input` in node)) return;
    const own = (node[`${attribute}Input`] ?? {}) as Record<string, string>;
    node[attribute] = { ...extra, ...own };
  }
}

/** A nested block's tags or labels with the company's added (the construct's own win). */
export function withGovernance(own: Record<string, string>, extra: Record<string, string> | undefined): Record<string, string> {
  return { ...(extra ?? {}), ...own };
}
