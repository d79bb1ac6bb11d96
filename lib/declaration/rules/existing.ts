/**
 * What the company already has: networks, customer-managed keys and private DNS zones. Each must be one the cloud accepts for
 * the fleet's resources (a key of the region it encrypts, a zone id of the right shape) and must belong to a cloud
 * the fleet uses.
 */
import { hostAt, isPrivate, parseCidr, sizeOf } from '../../net/cidr';
import { OFFSETS, ZONE_BLOCKS } from '../derived';
import { AwsInterRegion, Cloud, EtcdPlacement, Interconnect } from '../props';
import { Finding, FleetSpec, GroupSpec, RegionKeySpec } from '../spec';
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

const AWS_VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const AWS_SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const GCP_NETWORK = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/global\/networks\/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GCP_SUBNETWORK = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/regions\/([a-z0-9-]+)\/subnetworks\/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A GCP subnetwork is split into 8 zone blocks: a /24 gives blocks of 32 addresses, enough for the offsets. */
const GCP_MIN_SUBNETWORK_PREFIX = 24;

/** The highest offset the address plan uses in one zone block of a group (see `OFFSETS`). */
function highestOffset(g: GroupSpec): number {
  const zones = Math.max(1, g.zones.length);
  const memberSlots = Math.ceil(Math.max(0, g.members) / zones);
  const etcdSlots = g.etcd.placement === EtcdPlacement.DEDICATED ? Math.ceil(Math.max(0, g.etcd.size) / zones) : 0;
  return Math.max(OFFSETS.loadBalancer, OFFSETS.member + memberSlots - 1, etcdSlots ? OFFSETS.dedicatedEtcd + etcdSlots - 1 : 0);
}

export const EXISTING_NETWORK: Rule = {
  id: 'DPG-EXISTING-NETWORK',
  description: 'A network a node group brings names a VPC or network and its subnets as the cloud does, holds the planned addresses, and leaves the routing between groups to its owners.',
  check: (spec) => {
    const out: Finding[] = [];
    const rule = (path: string, message: string) => out.push(finding('DPG-EXISTING-NETWORK', path, message));
    const bringing = spec.nodeGroups.filter((g) => g.existingNetwork);
    for (const g of bringing) {
      const n = g.existingNetwork!;
      if (g.cidr !== undefined) rule(`${g.path}.cidr`, "is given, but the group brings its network: its addresses come from the subnets. Fix: remove cidr.");
      if (g.cloud === Cloud.AWS) {
        if (n.awsVpcId === undefined) rule(`${n.path}.awsVpcId`, 'is missing: an AWS node group\'s network is a VPC. Fix: give the id of the VPC that holds the subnets, e.g. vpc-0123456789abcdef0.');
        else if (!isReference(n.awsVpcId) && !AWS_VPC_ID.test(n.awsVpcId)) rule(`${n.path}.awsVpcId`, `${JSON.stringify(n.awsVpcId)} is not a VPC id. Fix: e.g. vpc-0123456789abcdef0.`);
        if (n.gcpNetwork !== undefined) rule(`${n.path}.gcpNetwork`, 'is a GCP network on an AWS node group. Fix: remove it (awsVpcId names the VPC).');
        if (n.subnets.length !== g.zones.length) {
          rule(`${n.path}.subnets`, `lists ${n.subnets.length} subnet(s) for ${g.zones.length} zone(s) (${g.zones.join(', ')}): an AWS subnet lives in one zone. Fix: one subnet per zone, in the order of zones.`);
        }
      } else {
        if (n.gcpNetwork === undefined) rule(`${n.path}.gcpNetwork`, 'is missing: a GCP node group\'s network is a VPC network. Fix: give its self link, e.g. projects/network-host-prod/global/networks/shared.');
        else if (!isReference(n.gcpNetwork) && !GCP_NETWORK.test(n.gcpNetwork)) rule(`${n.path}.gcpNetwork`, `${JSON.stringify(n.gcpNetwork)} is not a network's self link. Fix: e.g. projects/network-host-prod/global/networks/shared.`);
        if (n.awsVpcId !== undefined) rule(`${n.path}.awsVpcId`, 'is an AWS VPC on a GCP node group. Fix: remove it (gcpNetwork names the network).');
        if (n.subnets.length !== 1) rule(`${n.path}.subnets`, `lists ${n.subnets.length} subnetworks: a GCP subnetwork spans the region's zones, and a group takes one. Fix: give the one subnetwork of ${g.region}.`);
      }
      const ids = n.subnets.map((s) => s.id);
      for (const id of duplicates(ids)) rule(`${n.path}.subnets`, `names subnet ${id} twice: two zones cannot share a subnet (an AWS subnet is in one zone). Fix: one subnet per zone.`);
      n.subnets.forEach((s, i) => {
        const path = `${n.path}.subnets[${i}]`;
        if (!isReference(s.id)) {
          if (g.cloud === Cloud.AWS && !AWS_SUBNET_ID.test(s.id)) rule(`${path}.id`, `${JSON.stringify(s.id)} is not a subnet id. Fix: e.g. subnet-0123456789abcdef0.`);
          if (g.cloud === Cloud.GCP) {
            const m = GCP_SUBNETWORK.exec(s.id);
            if (!m) rule(`${path}.id`, `${JSON.stringify(s.id)} is not a subnetwork's self link. Fix: e.g. projects/network-host-prod/regions/${g.region}/subnetworks/databases.`);
            else if (m[2] !== g.region) rule(`${path}.id`, `is a subnetwork of ${m[2]}, but the group runs in ${g.region}. Fix: give a subnetwork of ${g.region}.`);
          }
        }
        const cidr = parseCidr(s.cidr);
        if (!cidr) {
          rule(`${path}.cidr`, `${JSON.stringify(s.cidr)} is not an IPv4 CIDR written out (network address with no host bits): the machines' addresses are planned in it at synth. Fix: the subnet's primary range, e.g. 10.20.1.0/24.`);
          return;
        }
        if (!isPrivate(cidr)) rule(`${path}.cidr`, `${s.cidr} is not a private (RFC 1918) range. Fix: place the group in private subnets.`);
        if (g.cloud === Cloud.GCP && cidr.prefix > GCP_MIN_SUBNETWORK_PREFIX) {
          rule(`${path}.cidr`, `${s.cidr} is smaller than a /${GCP_MIN_SUBNETWORK_PREFIX}: the plan splits a subnetwork into 8 zone blocks and needs offsets up to ${highestOffset(g)} in each. Fix: a /${GCP_MIN_SUBNETWORK_PREFIX} or larger subnetwork.`);
          return;
        }
        // AWS keeps a subnet's first 4 addresses and its last; the plan must end before the last.
        const blockSize = g.cloud === Cloud.AWS ? sizeOf(cidr) : sizeOf(cidr) / ZONE_BLOCKS;
        const highest = highestOffset(g);
        if (highest > blockSize - 2) {
          rule(`${path}.cidr`, `${s.cidr} cannot hold the planned addresses: they reach offset ${highest} of ${g.cloud === Cloud.AWS ? 'the subnet' : 'each zone block'} ` +
            `(${hostAt(cidr, highest)} is outside it or reserved). Fix: a larger subnet${g.cloud === Cloud.AWS ? ' (a /26 holds up to 9 members per zone and dedicated etcd)' : ''}, or fewer members per zone.`);
        }
      });
    }
    // A region's VPC (AWS) and the fleet's one network (GCP) are the construct's or the network team's, not both.
    const awsRegions = [...new Set(spec.nodeGroups.filter((g) => g.cloud === Cloud.AWS).map((g) => g.region))];
    for (const region of awsRegions) {
      const inRegion = spec.nodeGroups.filter((g) => g.cloud === Cloud.AWS && g.region === region);
      const own = inRegion.filter((g) => !g.existingNetwork);
      if (own.length > 0 && own.length < inRegion.length) {
        rule(own[0].path, `creates its network in ${region}, where ${inRegion.find((g) => g.existingNetwork)!.name} brings one: the construct creates one VPC per region, for all of the region's groups. Fix: give every group of ${region} an existingNetwork, or none.`);
      }
    }
    const gcpGroups = spec.nodeGroups.filter((g) => g.cloud === Cloud.GCP);
    const gcpBringing = gcpGroups.filter((g) => g.existingNetwork);
    if (gcpBringing.length > 0 && gcpBringing.length < gcpGroups.length) {
      rule(gcpGroups.find((g) => !g.existingNetwork)!.path, `creates the fleet's GCP network, while ${gcpBringing[0].name} brings one: the fleet's GCP groups share one network. Fix: give every GCP group the same existingNetwork.gcpNetwork, or none.`);
    }
    const networks = [...new Set(gcpBringing.map((g) => g.existingNetwork!.gcpNetwork).filter((n) => n !== undefined))];
    if (networks.length > 1) {
      rule(gcpBringing[0].existingNetwork!.path, `the fleet's GCP groups bring ${networks.length} networks (${networks.join(', ')}): they share one network (its firewall rules and private zone). Fix: place them in one (Shared VPC) network.`);
    }
    // Routing between groups is the network's owners' once a group brings its network.
    const awsBringing = bringing.filter((g) => g.cloud === Cloud.AWS);
    if (awsBringing.length > 0 && awsRegions.length > 1 && spec.network.awsInterRegion === AwsInterRegion.PEERING) {
      rule('network.awsInterRegion', `is PEERING, but ${awsBringing.map((g) => g.name).join(', ')} bring${awsBringing.length === 1 ? 's' : ''} its network: the construct peers only VPCs it creates. Fix: AwsInterRegion.EXTERNAL (your Transit Gateway or peering routes between the regions).`);
    }
    if (bringing.length > 0 && awsRegions.length > 0 && gcpGroups.length > 0 && spec.network.interconnect === Interconnect.HA_VPN) {
      rule('network.interconnect', `is HA_VPN, but ${bringing.map((g) => g.name).join(', ')} bring${bringing.length === 1 ? 's' : ''} a network: the construct builds the VPN only between networks it creates. Fix: Interconnect.EXTERNAL (your interconnect or VPN routes between the clouds).`);
    }
    return out;
  },
};
