/** Synth helpers shared by the cloud construct tests: real synth of real stacks, then plain JSON inspection. */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { Testing, TerraformStack } from 'cdktf';
import { createHash } from 'crypto';
import { Cloud, DistributedPostgres, DistributedPostgresProps, Topology } from '../../lib';
import { encodeUserData, renderCloudConfig } from '../../lib/pipeline';

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
 * The synthesized JSON made readable for a snapshot. Each machine's user-data is checked against the renderer (it
 * must be exactly `encodeUserData(cloud, renderCloudConfig(topology, machine))`) and shown as a short marker, so the
 * snapshot pins the cloud resources and the wiring while the renderer's own tests pin the cloud-config text; a
 * user-data that is not the renderer's output shows up as a mismatch. `//` metadata is dropped.
 */
export function readable(json: TfJson, topology: Topology): unknown {
  const marker = (cloud: 'aws' | 'gcp', name: string, encoding: 'plain' | 'gzip+base64', value: string) => {
    const expected = encodeUserData(cloud, renderCloudConfig(topology, name), name);
    if (expected.encoding !== encoding || expected.value !== value) {
      return `[user-data of ${name}: NOT the renderer's output, ${Buffer.byteLength(value)} bytes, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 16)}]`;
    }
    return `[user-data of ${name}: renderCloudConfig, ${encoding}]`;
  };
  const copy = JSON.parse(JSON.stringify(json)) as TfJson;
  for (const r of Object.values(copy.resource.aws_instance ?? {})) {
    if (r.user_data !== undefined) r.user_data = marker('aws', r.tags.Name, 'plain', r.user_data);
    if (r.user_data_base64 !== undefined) r.user_data_base64 = marker('aws', r.tags.Name, 'gzip+base64', r.user_data_base64);
  }
  for (const r of Object.values(copy.resource.google_compute_instance ?? {})) {
    r.metadata['user-data'] = marker('gcp', r.name, r.metadata['user-data-encoding'] === 'base64' ? 'gzip+base64' : 'plain', r.metadata['user-data']);
  }
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '//').map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(copy);
}
