/**
 * What the company already has, on the synthesized JSON of the ledger fleet (AWS us-east-1 and eu-west-1, GCP
 * europe-west3): customer-managed keys on every disk and secret (and the role's right to decrypt those secrets, only
 * through Secrets Manager), existing private zones written to instead of created, and the AWS regions joined by the
 * company's own routing instead of peering. A fleet that names none of them synthesizes exactly as before.
 */
import { DataAwsKmsKey } from '@cdktf/provider-aws/lib/data-aws-kms-key';
import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { AwsInterRegion, DistributedPostgres, DistributedPostgresProps } from '../../lib';
import { ledgerFleet } from '../fixtures/fleets';
import { fleetStack, Resource, resourcesOf, synthesizedOnce, synthJson, TfJson } from '../stacks/helpers';

const KEY = {
  'us-east-1': 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  'eu-west-1': 'arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef',
};
const GCP_DISK_KEY = 'projects/security-keys/locations/europe-west3/keyRings/databases/cryptoKeys/disks';
const GCP_SECRETS_KEY = 'projects/security-keys/locations/global/keyRings/databases/cryptoKeys/secrets';

function withExisting(): DistributedPostgresProps {
  const props = ledgerFleet();
  return {
    ...props,
    network: {
      ...props.network,
      awsInterRegion: AwsInterRegion.EXTERNAL,
      existingDnsZone: { awsHostedZoneId: 'Z0123456789ABCDEFGHIJ', gcpManagedZone: 'corp-db-internal', gcpProject: 'network-host-prod' },
    },
    encryption: {
      awsKmsKeys: Object.entries(KEY).map(([region, keyArn]) => ({ region, keyArn })),
      gcpDiskKmsKeys: [{ region: 'europe-west3', keyName: GCP_DISK_KEY }],
      gcpSecretsKmsKeyName: GCP_SECRETS_KEY,
    },
  };
}

/** The AWS region a resource is managed in: its `region` argument, else its provider alias (the ledger's are regions). */
function regionOf(body: Resource): string {
  return body.region ?? String(body.provider).replace(/^aws\./, '');
}

describe('customer-managed keys', () => {
  const json = synthesizedOnce('existing', () => fleetStack(withExisting()).stack).json;

  test('every EBS volume and root disk is encrypted with its region\'s key', () => {
    const instances = resourcesOf(json, 'aws_instance');
    const volumes = resourcesOf(json, 'aws_ebs_volume');
    expect(instances.length).toBeGreaterThan(0);
    expect(volumes.length).toBeGreaterThan(0);
    for (const [id, body] of instances) {
      expect({ id, encrypted: body.root_block_device.encrypted, key: body.root_block_device.kms_key_id }).toEqual({ id, encrypted: true, key: KEY[regionOf(body) as keyof typeof KEY] });
    }
    for (const [id, body] of volumes) {
      expect({ id, encrypted: body.encrypted, key: body.kms_key_id }).toEqual({ id, encrypted: true, key: KEY[regionOf(body) as keyof typeof KEY] });
    }
  });

  test('every Secrets Manager secret uses its region\'s key, and the role may decrypt it only through Secrets Manager', () => {
    const secrets = resourcesOf(json, 'aws_secretsmanager_secret');
    expect(secrets.length).toBeGreaterThan(0);
    for (const [id, body] of secrets) expect({ id, key: body.kms_key_id }).toEqual({ id, key: KEY[regionOf(body) as keyof typeof KEY] });
    const documents = Object.entries(json.data!.aws_iam_policy_document).filter(([id]) => /read-secrets/.test(id));
    expect(documents).toHaveLength(2);
    for (const [, doc] of documents) {
      const decrypt = (doc as Resource).statement.find((s: Resource) => s.sid === 'DecryptFleetSecrets');
      const region = Object.keys(KEY).find((r) => decrypt.resources[0] === KEY[r as keyof typeof KEY])!;
      expect(decrypt).toEqual({
        sid: 'DecryptFleetSecrets', actions: ['kms:Decrypt'], resources: [KEY[region as keyof typeof KEY]],
        condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`secretsmanager.${region}.amazonaws.com`] }],
      });
    }
  });

  test('every GCP boot and data disk uses the region\'s key; the secrets the global key', () => {
    const instances = resourcesOf(json, 'google_compute_instance');
    const disks = resourcesOf(json, 'google_compute_disk');
    expect(instances.length).toBeGreaterThan(0);
    for (const [id, body] of instances) expect({ id, key: body.boot_disk.kms_key_self_link }).toEqual({ id, key: GCP_DISK_KEY });
    for (const [id, body] of disks) expect({ id, key: body.disk_encryption_key?.kms_key_self_link }).toEqual({ id, key: GCP_DISK_KEY });
    const secrets = resourcesOf(json, 'google_secret_manager_secret');
    expect(secrets.length).toBeGreaterThan(0);
    for (const [id, body] of secrets) {
      expect({ id, replication: body.replication }).toEqual({ id, replication: { auto: { customer_managed_encryption: { kms_key_name: GCP_SECRETS_KEY } } } });
    }
  });
});

describe('existing zones and the company\'s own routing between AWS regions', () => {
  const json = synthesizedOnce('existing', () => fleetStack(withExisting()).stack).json;
  const plain = synthesizedOnce('ledger', () => fleetStack(ledgerFleet()).stack).json;

  test('no zone is created; the Route 53 zone is associated with every VPC and records go to the existing zones', () => {
    expect(resourcesOf(json, 'aws_route53_zone')).toEqual([]);
    expect(resourcesOf(json, 'google_dns_managed_zone')).toEqual([]);
    const associations = resourcesOf(json, 'aws_route53_zone_association')
      .map(([, b]) => ({ zone: b.zone_id, region: b.vpc_region, vpc: b.vpc_id }))
      .sort((a, b) => a.region.localeCompare(b.region));
    expect(associations).toEqual(['eu-west-1', 'us-east-1'].map((region) => ({ zone: 'Z0123456789ABCDEFGHIJ', region, vpc: expect.stringMatching(/aws_vpc\..*\.id/) })));
    const awsRecords = resourcesOf(json, 'aws_route53_record');
    const gcpRecords = resourcesOf(json, 'google_dns_record_set');
    expect(awsRecords.length).toBe(resourcesOf(plain, 'aws_route53_record').length);
    expect(gcpRecords.length).toBe(resourcesOf(plain, 'google_dns_record_set').length);
    for (const [id, body] of awsRecords) expect({ id, zone: body.zone_id }).toEqual({ id, zone: 'Z0123456789ABCDEFGHIJ' });
    for (const [id, body] of gcpRecords) {
      expect({ id, zone: body.managed_zone, project: body.project }).toEqual({ id, zone: 'corp-db-internal', project: 'network-host-prod' });
    }
  });

  test('no peering and no peering route; the security groups still admit the other groups\' CIDRs', () => {
    expect(resourcesOf(plain, 'aws_vpc_peering_connection').length).toBeGreaterThan(0);
    expect(resourcesOf(plain, 'aws_route').filter(([, b]) => b.vpc_peering_connection_id !== undefined).length).toBeGreaterThan(0);
    for (const type of ['aws_vpc_peering_connection', 'aws_vpc_peering_connection_accepter']) expect(resourcesOf(json, type)).toEqual([]);
    const peeringRoutes = resourcesOf(json, 'aws_route').filter(([, b]) => b.vpc_peering_connection_id !== undefined);
    expect(peeringRoutes).toEqual([]);
    const ingress = (j: TfJson) => JSON.stringify([...resourcesOf(j, 'aws_security_group'), ...resourcesOf(j, 'aws_vpc_security_group_ingress_rule')]);
    expect(ingress(json)).toBe(ingress(plain));
  });
});

test('a fleet that names none of them synthesizes byte-identical JSON to one that leaves them at their defaults', () => {
  const props = ledgerFleet();
  const explicit = synthJson(fleetStack({ ...props, network: { ...props.network, awsInterRegion: AwsInterRegion.PEERING, existingDnsZone: {} }, encryption: {} }).stack);
  expect(JSON.stringify(explicit)).toBe(JSON.stringify(synthesizedOnce('ledger', () => fleetStack(props).stack).json));
});

test('keys and zones known only at apply (Terraform references) are taken as they are', () => {
  const stack = new TerraformStack(Testing.app(), 'test');
  const props = ledgerFleet();
  const awsProviders = ['eu-west-1', 'us-east-1'].map((region) => ({ region, provider: new AwsProvider(stack, `aws-${region}`, { region, alias: region }) }));
  const googleProvider = new GoogleProvider(stack, 'google', { project: 'test-project' });
  const key = new DataAwsKmsKey(stack, 'databases-key', { provider: awsProviders[1].provider, keyId: 'alias/databases' });
  const zone = new DataAwsRoute53Zone(stack, 'corp-zone', { provider: awsProviders[1].provider, name: 'ledger.db.internal', privateZone: true });
  new DistributedPostgres(stack, 'fleet', {
    ...props, awsProviders, googleProvider,
    network: { ...props.network, existingDnsZone: { awsHostedZoneId: zone.zoneId } },
    encryption: { awsKmsKeys: [{ region: 'us-east-1', keyArn: key.arn }] },
  });
  const json = synthJson(stack);
  const inUsEast1 = resourcesOf(json, 'aws_ebs_volume').filter(([, b]) => b.provider === 'aws.us-east-1');
  expect(inUsEast1.length).toBeGreaterThan(0);
  for (const [, body] of inUsEast1) expect(body.kms_key_id).toBe('${data.aws_kms_key.databases-key.arn}');
  for (const [, body] of resourcesOf(json, 'aws_route53_record')) expect(body.zone_id).toBe('${data.aws_route53_zone.corp-zone.zone_id}');
});
