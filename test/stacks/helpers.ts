/** Synth helpers shared by the cloud construct tests: real synth of real stacks, then plain JSON inspection. */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { Testing, TerraformStack } from 'cdktf';
import { createHash } from 'crypto';
import { Cloud, DistributedPostgres, DistributedPostgresProps, Topology } from '../../lib';
import { encodeUserData, renderCloudConfig, ReviewableUserData, toReviewableJson } from '../../lib/pipeline';

export type Resource = Record<string, any>;
export interface TfJson {
  resource: Record<string, Record<string, Resource>>;
  data?: Record<string, Record<string, Resource>>;
  output?: Record<string, unknown>;
  provider?: Record<string, unknown>;
}

/** Synthesizes a stack (running cdktf's validations) and parses the JSON. */
export function synthJson(stack: TerraformStack): TfJson {
  return JSON.parse(Testing.synth(stack, true));
}

/** A stack holding one fleet, with an aliased AWS provider per AWS region and a Google provider when needed. */
export function fleetStack(props: DistributedPostgresProps, id = 'fleet'): { stack: TerraformStack; fleet: DistributedPostgres } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const regions = [...new Set(props.nodeGroups.filter((g) => g.cloud === Cloud.AWS).map((g) => g.region))].sort();
  const awsProviders = regions.map((region) => ({ region, provider: new AwsProvider(stack, `aws-${region}`, { region, alias: region }) }));
  const googleProvider = props.nodeGroups.some((g) => g.cloud === Cloud.GCP) ? new GoogleProvider(stack, 'google', { project: 'test-project' }) : undefined;
  const fleet = new DistributedPostgres(stack, id, { ...props, awsProviders, googleProvider });
  return { stack, fleet };
}

/** Every resource of a type as [logical id, body]. */
export function resourcesOf(json: TfJson, type: string): [string, Resource][] {
  return Object.entries(json.resource[type] ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** True when a logical id belongs to a construct of the given id (cdktf joins the construct path with `_`). */
export function ownedBy(logicalId: string, constructId: string): boolean {
  return logicalId.split('_').includes(constructId);
}

/** The user-data a machine boots with: AWS `user_data` / `user_data_base64`, GCP `metadata.user-data`. */
export function userDataOf(resource: Resource): string {
  return resource.user_data ?? resource.user_data_base64 ?? resource.metadata?.['user-data'];
}

/**
 * `toReviewableJson` with each machine's user-data checked against the renderer and shown as a short marker: it must
 * be exactly `encodeUserData(cloud, renderCloudConfig(topology, machine))`. The snapshots then pin the cloud resources
 * and the wiring once, while the renderer's own snapshots (test/render) pin the cloud-config text; a user-data that is
 * not the renderer's output shows up as a mismatch.
 */
export function rendererMarker(topology: Topology): (userData: ReviewableUserData) => string {
  return ({ address, machine, attribute, value, text }) => {
    const cloud = address.startsWith('google_') ? 'gcp' : 'aws';
    const encoding = attribute === 'user_data_base64' || text !== value ? 'gzip+base64' : 'plain';
    let expected: ReturnType<typeof encodeUserData> | undefined;
    try {
      expected = encodeUserData(cloud, renderCloudConfig(topology, machine), machine);
    } catch {
      expected = undefined;
    }
    if (expected?.encoding !== encoding || expected.value !== value) {
      return `[user-data of ${machine}: NOT the renderer's output, ${Buffer.byteLength(value)} bytes, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 16)}]`;
    }
    return `[user-data of ${machine}: renderCloudConfig, ${encoding}]`;
  };
}

/** The synthesized JSON as our snapshots show it: `toReviewableJson` with the renderer's markers for user-data. */
export function readable(json: TfJson, topology: Topology): Record<string, any> {
  return toReviewableJson(json, { userData: rendererMarker(topology) });
}
