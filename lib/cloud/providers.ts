/** Which provider manages each AWS region and the GCP resources: given in the props, or found in the stack. */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformProvider, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { DistributedPostgresProps } from '../declaration/props';
import { Finding } from '../declaration/spec';
import { Topology } from '../topology/topology';
import { AwsRegionTarget } from './aws/region';

export interface ResolvedProviders {
  readonly aws: Map<string, AwsRegionTarget>;
  readonly google: GoogleProvider | undefined;
  /** Missing or ambiguous providers. */
  readonly findings: Finding[];
}

/** Providers of one Terraform type in the construct's stack, in construct order. */
export function stackProviders(scope: Construct, terraformType: string): TerraformProvider[] {
  return TerraformStack.of(scope).node.findAll()
    .filter((c): c is TerraformProvider => c instanceof TerraformProvider && c.terraformResourceType === terraformType);
}

function providerName(p: TerraformProvider): string {
  return `'${p.node.path}'`;
}

/**
 * Picks the provider of every AWS region and the Google provider (see `DistributedPostgresProps.awsProviders`).
 * Providers must be created before the construct. Every missing or ambiguous provider is a finding.
 */
export function resolveProviders(scope: Construct, props: DistributedPostgresProps, topology: Topology): ResolvedProviders {
  const findings: Finding[] = [];
  const aws = new Map<string, AwsRegionTarget>();
  const explicit = props.awsProviders ?? [];
  const awsInStack = stackProviders(scope, 'aws') as AwsProvider[];
  // Every AWS region of the fleet (also those whose groups bring their network, which have no VPC of the fleet's).
  const awsGroups = topology.nodeGroups.filter((g) => g.cloud === 'aws');
  for (const region of [...new Set(awsGroups.map((g) => g.region))].sort()) {
    const groups = awsGroups.filter((g) => g.region === region).map((g) => g.name).join(', ');
    const given = explicit.filter((e) => e.region === region);
    if (given.length > 1) {
      findings.push({ rule: 'DPG-PROVIDER', path: 'awsProviders', message: `lists region ${region} ${given.length} times. Fix: list each region once.` });
      continue;
    }
    if (given.length === 1) {
      aws.set(region, { region, provider: given[0].provider });
      continue;
    }
    const sameRegion = awsInStack.filter((p) => p.region === region);
    if (sameRegion.length === 1) {
      aws.set(region, { region, provider: sameRegion[0] });
    } else if (sameRegion.length > 1) {
      findings.push({ rule: 'DPG-PROVIDER', path: 'awsProviders', message: `the stack has ${sameRegion.length} AWS providers for ${region} ` +
        `(${sameRegion.map(providerName).join(', ')}) and node group(s) ${groups} need one. Fix: pass awsProviders: [{ region: '${region}', provider }].` });
    } else if (awsInStack.length === 1) {
      // One provider for every region: each resource carries its own `region` (AWS provider 6+).
      aws.set(region, { region, provider: awsInStack[0] });
    } else {
      findings.push({ rule: 'DPG-PROVIDER', path: 'awsProviders', message: `no AWS provider for region ${region} (node group(s) ${groups}). ` +
        `Fix: create new AwsProvider(stack, 'aws-${region}', { region: '${region}', alias: '${region}' }) before this construct, ` +
        `or pass awsProviders: [{ region: '${region}', provider }].` });
    }
  }
  let google: GoogleProvider | undefined;
  const gcpGroups = topology.nodeGroups.filter((g) => g.cloud === 'gcp').map((g) => g.name);
  if (gcpGroups.length > 0) {
    const inStack = stackProviders(scope, 'google') as GoogleProvider[];
    google = props.googleProvider ?? (inStack.length === 1 ? inStack[0] : undefined);
    if (!google) {
      findings.push({ rule: 'DPG-PROVIDER', path: 'googleProvider', message: inStack.length === 0
        ? `no Google provider for node group(s) ${gcpGroups.join(', ')}. Fix: create new GoogleProvider(stack, 'google', { project }) before this construct, or pass googleProvider.`
        : `the stack has ${inStack.length} Google providers (${inStack.map(providerName).join(', ')}). Fix: pass googleProvider.` });
    }
  }
  return { aws, google, findings };
}
