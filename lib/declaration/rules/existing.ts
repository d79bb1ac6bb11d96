/**
 * What the company already has: customer-managed keys and private DNS zones. Each must be one the cloud accepts for
 * the fleet's resources (a key of the region it encrypts, a zone id of the right shape) and must belong to a cloud
 * the fleet uses.
 */
import { Cloud } from '../props';
import { Finding, FleetSpec, RegionKeySpec } from '../spec';
import { duplicates, finding, Rule } from './rule';

/** cdktf's encoding of a value Terraform knows only at apply (e.g. `dataAwsKmsKey.arn`): taken as is. */
const TERRAFORM_REFERENCE = /\$\{TfToken\[/;
const AWS_KMS_KEY_ARN = /^arn:aws(-[a-z]+)*:kms:([a-z]{2}(-[a-z]+)+-\d):(\d{12}):key\/([0-9a-f-]{36}|mrk-[0-9a-f]{32})$/;
const AWS_KMS_ALIAS_ARN = /^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:alias\//;
const GCP_KMS_KEY = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/locations\/([a-z0-9-]+)\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/;
const ROUTE53_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const GCP_MANAGED_ZONE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

const isReference = (value: string) => TERRAFORM_REFERENCE.test(value);

function regionsOf(spec: FleetSpec, cloud: Cloud): Set<string> {
  return new Set(spec.nodeGroups.filter((g) => g.cloud === cloud).map((g) => g.region));
}

/** Entries of one region each, in a region of the fleet. */
function regionEntries(list: RegionKeySpec[], listPath: string, fleetRegions: Set<string>, cloud: string): Finding[] {
  const out: Finding[] = [];
  for (const entry of list) {
    if (!fleetRegions.has(entry.region)) {
      out.push(finding('DPG-KEYS', `${entry.path}.region`, `${JSON.stringify(entry.region)} is not a region of the fleet's ${cloud} node groups` +
        (fleetRegions.size ? ` (${[...fleetRegions].sort().join(', ')})` : ' (it has none)') + '. Fix: remove the entry or correct its region.'));
    }
  }
  for (const region of duplicates(list.map((e) => e.region))) {
    out.push(finding('DPG-KEYS', listPath, `names region ${region} twice: a region's disks and secrets take one key. Fix: keep one entry per region.`));
  }
  return out;
}

export const KEYS: Rule = {
  id: 'DPG-KEYS',
  description: 'Customer-managed keys are keys (not aliases), of the region they encrypt, for regions the fleet uses.',
  check: (spec) => {
    const { awsKmsKeys, gcpDiskKmsKeys, gcpSecretsKmsKeyName } = spec.encryption;
    const out = [
      ...regionEntries(awsKmsKeys, 'encryption.awsKmsKeys', regionsOf(spec, Cloud.AWS), 'AWS'),
      ...regionEntries(gcpDiskKmsKeys, 'encryption.gcpDiskKmsKeys', regionsOf(spec, Cloud.GCP), 'GCP'),
    ];
    for (const entry of awsKmsKeys) {
      if (isReference(entry.key)) continue;
      const path = `${entry.path}.keyArn`;
      const arn = AWS_KMS_KEY_ARN.exec(entry.key);
      if (AWS_KMS_ALIAS_ARN.test(entry.key)) {
        out.push(finding('DPG-KEYS', path, `${JSON.stringify(entry.key)} is an alias: the machines' role is granted kms:Decrypt on a key ARN (IAM does not match aliases). ` +
          'Fix: give the key\'s ARN (aws kms describe-key --key-id ALIAS --query KeyMetadata.Arn), or a data source\'s arn.'));
      } else if (!arn) {
        out.push(finding('DPG-KEYS', path, `${JSON.stringify(entry.key)} is not the ARN of a KMS key. Fix: e.g. arn:aws:kms:${entry.region || 'eu-west-1'}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab.`));
      } else if (arn[2] !== entry.region) {
        out.push(finding('DPG-KEYS', path, `is a key of ${arn[2]}, but encrypts the disks and secrets of ${entry.region}: EBS and Secrets Manager take only a key of their own region. ` +
          `Fix: give a key of ${entry.region} (a multi-Region replica key works).`));
      }
    }
    for (const entry of gcpDiskKmsKeys) {
      if (isReference(entry.key)) continue;
      const path = `${entry.path}.keyName`;
      const key = GCP_KMS_KEY.exec(entry.key);
      if (!key) {
        out.push(finding('DPG-KEYS', path, `${JSON.stringify(entry.key)} is not a Cloud KMS key name. Fix: e.g. projects/security-keys/locations/${entry.region || 'europe-west3'}/keyRings/databases/cryptoKeys/disks.`));
      } else if (key[2] !== entry.region) {
        out.push(finding('DPG-KEYS', path, `is a key of location ${key[2]}, but encrypts the disks of ${entry.region}. Fix: give a key of a key ring in ${entry.region}.`));
      }
    }
    if (gcpSecretsKmsKeyName !== undefined && !isReference(gcpSecretsKmsKeyName)) {
      const key = GCP_KMS_KEY.exec(gcpSecretsKmsKeyName);
      const path = 'encryption.gcpSecretsKmsKeyName';
      if (!key) {
        out.push(finding('DPG-KEYS', path, `${JSON.stringify(gcpSecretsKmsKeyName)} is not a Cloud KMS key name. Fix: e.g. projects/security-keys/locations/global/keyRings/databases/cryptoKeys/secrets.`));
      } else if (key[2] !== 'global') {
        out.push(finding('DPG-KEYS', path, `is a key of location ${key[2]}: the fleet's secrets are replicated automatically, which takes only a key in the global location. ` +
          'Fix: give a key of a key ring in location global.'));
      }
    }
    if (gcpSecretsKmsKeyName !== undefined && regionsOf(spec, Cloud.GCP).size === 0) {
      out.push(finding('DPG-KEYS', 'encryption.gcpSecretsKmsKeyName', 'the fleet has no GCP node group, so no GCP secret. Fix: remove it.'));
    }
    return out;
  },
};

export const EXISTING_ZONES: Rule = {
  id: 'DPG-DNS-ZONE',
  description: 'An existing private DNS zone is named by an id or name its cloud accepts, in a cloud the fleet uses.',
  check: (spec) => {
    const out: Finding[] = [];
    const { awsHostedZoneId, gcpManagedZone, gcpProject } = spec.network.existingDnsZone;
    const base = 'network.existingDnsZone';
    if (awsHostedZoneId !== undefined) {
      if (regionsOf(spec, Cloud.AWS).size === 0) {
        out.push(finding('DPG-DNS-ZONE', `${base}.awsHostedZoneId`, 'the fleet has no AWS node group to write records for. Fix: remove it.'));
      } else if (!isReference(awsHostedZoneId) && !ROUTE53_ZONE_ID.test(awsHostedZoneId)) {
        out.push(finding('DPG-DNS-ZONE', `${base}.awsHostedZoneId`, `${JSON.stringify(awsHostedZoneId)} is not a Route 53 hosted zone id. ` +
          'Fix: e.g. Z0123456789ABCDEFGHIJ (aws route53 list-hosted-zones-by-name), without the /hostedzone/ prefix.'));
      }
    }
    if (gcpManagedZone !== undefined) {
      if (regionsOf(spec, Cloud.GCP).size === 0) {
        out.push(finding('DPG-DNS-ZONE', `${base}.gcpManagedZone`, 'the fleet has no GCP node group to write records for. Fix: remove it.'));
      } else if (!isReference(gcpManagedZone) && !GCP_MANAGED_ZONE.test(gcpManagedZone)) {
        out.push(finding('DPG-DNS-ZONE', `${base}.gcpManagedZone`, `${JSON.stringify(gcpManagedZone)} is not a Cloud DNS managed zone name (its DNS name is not asked here: that is privateDnsZone). ` +
          'Fix: the zone\'s name, e.g. corp-db-internal (gcloud dns managed-zones list).'));
      }
    }
    if (gcpProject !== undefined) {
      if (gcpManagedZone === undefined) {
        out.push(finding('DPG-DNS-ZONE', `${base}.gcpProject`, 'names the project of a zone, but no gcpManagedZone is given. Fix: give gcpManagedZone, or remove gcpProject.'));
      } else if (!isReference(gcpProject) && !GCP_PROJECT.test(gcpProject)) {
        out.push(finding('DPG-DNS-ZONE', `${base}.gcpProject`, `${JSON.stringify(gcpProject)} is not a GCP project id (6-30 lower-case letters, digits and -). Fix: e.g. network-host-prod.`));
      }
    }
    return out;
  },
};
