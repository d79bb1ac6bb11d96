/**
 * Each block rule against small stacks built from provider classes: a compliant and a non-compliant
 * version of every form the rule reads.
 */
import { groupScriptsDocument } from '../../lib/render/cloud-config';
import { createHash } from 'crypto';
import { gzipSync } from 'zlib';
import { Fn, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { Instance, InstanceConfig } from '@cdktf/provider-aws/lib/instance';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { ComputeDisk } from '@cdktf/provider-google/lib/compute-disk';
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeForwardingRule } from '@cdktf/provider-google/lib/compute-forwarding-rule';
import { ComputeInstance, ComputeInstanceConfig } from '@cdktf/provider-google/lib/compute-instance';
import { resolveFleet } from '../../lib/pipeline';
import { meshDocument } from '../../lib/render/mesh-document';
import { ledgerFleet } from '../fixtures/fleets';
import { findingsFor } from './helpers';

/** An AWS machine that passes every rule; tests change one thing. */
function awsMachine(scope: Construct, id: string, change: Partial<InstanceConfig> = {}): Instance {
  return new Instance(scope, id, {
    ami: 'ami-123', instanceType: 'm6i.large', subnetId: 'subnet-1',
    metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled' },
    rootBlockDevice: { encrypted: true, volumeSize: 20 },
    ...change,
  });
}

/** A GCP machine that passes every rule. */
function gcpMachine(scope: Construct, id: string, change: Partial<ComputeInstanceConfig> = {}): ComputeInstance {
  return new ComputeInstance(scope, id, {
    name: id, machineType: 'n2-standard-2', zone: 'europe-west3-a',
    bootDisk: { initializeParams: { image: 'ubuntu-os-cloud/ubuntu-2404-lts-amd64' } },
    networkInterface: [{ subnetwork: 'sub', networkIp: '10.64.32.10' }],
    ...change,
  });
}

/** A stand-in fleet construct: any construct with a resolved `topology` gives its resources the fleet context. */
class FleetScope extends Construct {
  public readonly topology = resolveFleet(ledgerFleet(), 'stack/Ledger', 'ledger').topology;
}

describe('DPG-P001 database, Patroni and etcd ports reachable from outside', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['aws_security_group ingress 5432 from 0.0.0.0/0', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] }),
      /^\[DPG-P001\] .*ingress\[0\] opens tcp 5432 to 0\.0\.0\.0\/0, which is not a private range\. Fix: /],
    ['aws_security_group_rule 2379-2380 from a public /24', (s) => new SecurityGroupRule(s, 'r', { type: 'ingress', securityGroupId: 'sg-1', fromPort: 2379, toPort: 2380, protocol: 'tcp', cidrBlocks: ['8.8.8.0/24'] }),
      /opens tcp 2379, 2380 to 8\.8\.8\.0\/24/],
    ['aws_vpc_security_group_ingress_rule 8008 from ::/0', (s) => new VpcSecurityGroupIngressRule(s, 'r', { securityGroupId: 'sg-1', ipProtocol: 'tcp', fromPort: 8008, toPort: 8008, cidrIpv6: '::/0' }),
      /opens tcp 8008 to ::\/0/],
    ['aws_vpc_security_group_ingress_rule all traffic from the internet', (s) => new VpcSecurityGroupIngressRule(s, 'r', { securityGroupId: 'sg-1', ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' }),
      /opens all 2379, 2380, 5432, 8008, 9100, 9187 to 0\.0\.0\.0\/0/],
    ['aws_vpc_security_group_ingress_rule: a scrape rule for node_exporter from 0.0.0.0/0', (s) => new VpcSecurityGroupIngressRule(s, 'r', { securityGroupId: 'sg-1', ipProtocol: 'tcp', fromPort: 9100, toPort: 9100, cidrIpv4: '0.0.0.0/0' }),
      /opens tcp 9100 to 0\.0\.0\.0\/0, which is not a private range/],
    ['google_compute_firewall: a scrape rule for both exporters from 0.0.0.0/0', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['0.0.0.0/0'], allow: [{ protocol: 'tcp', ports: ['9100', '9187'] }] }),
      /allow\[0\] opens tcp 9100, 9187 to 0\.0\.0\.0\/0, which is not a private range/],
    ['google_compute_firewall with no source at all (applies to 0.0.0.0/0)', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', allow: [{ protocol: 'tcp', ports: ['8008'] }] }),
      /allow\[0\] opens tcp 8008 to 0\.0\.0\.0\/0/],
    ['google_compute_firewall port range from a public range', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['10.0.0.0/8', '100.64.0.0/10'], allow: [{ protocol: 'tcp', ports: ['2379-2380'] }] }),
      /opens tcp 2379, 2380 to 100\.64\.0\.0\/10/],
  ])('flags %s', (_name, build, expected) => {
    const { errors } = findingsFor('DPG-P001', build);
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['5432 from a private range', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['10.64.0.0/20'] }] })],
    ['443 from the internet (not a fleet port)', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 443, toPort: 443, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] })],
    ['Patroni port from Google health checkers', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'], allow: [{ protocol: 'tcp', ports: ['8008'] }] })],
    ['a firewall by source tags only', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceTags: ['pg'], allow: [{ protocol: 'tcp', ports: ['5432'] }] })],
    ['an egress firewall', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', direction: 'EGRESS', destinationRanges: ['0.0.0.0/0'], allow: [{ protocol: 'tcp', ports: ['5432'] }] })],
    ['a disabled firewall', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', disabled: true, sourceRanges: ['0.0.0.0/0'], allow: [{ protocol: 'tcp', ports: ['5432'] }] })],
    ['an egress security group rule', (s) => new SecurityGroupRule(s, 'r', { type: 'egress', securityGroupId: 'sg-1', fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] })],
    ['udp 5432 from the internet', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 5432, toPort: 5432, protocol: 'udp', cidrBlocks: ['0.0.0.0/0'] }] })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P001', build).all).toEqual([]);
  });

  describe('inside a fleet: only the fleet\'s own CIDRs (and client CIDRs for 5432)', () => {
    test('etcd opened to the declared client range is outside the fleet', () => {
      const { errors } = findingsFor('DPG-P001', (s) => {
        const fleet = new FleetScope(s, 'Ledger');
        new SecurityGroup(fleet, 'sg', { ingress: [
          { fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['10.200.0.0/16', '10.64.0.0/20'] },
          { fromPort: 2379, toPort: 2380, protocol: 'tcp', cidrBlocks: ['10.200.0.0/16'] },
          { fromPort: 8008, toPort: 8008, protocol: 'tcp', cidrBlocks: ['192.168.0.0/16'] },
        ] });
      });
      expect(errors).toEqual([
        expect.stringMatching(/ingress\[1\] opens tcp 2379, 2380 to 10\.200\.0\.0\/16, outside fleet 'ledger' \(10\.64\.0\.0\/20, 10\.64\.16\.0\/20, 10\.64\.32\.0\/20, 10\.200\.0\.0\/16\)/),
        expect.stringMatching(/ingress\[2\] opens tcp 8008 to 192\.168\.0\.0\/16, outside fleet 'ledger'/),
      ]);
    });

    test('the exporters may be scraped from monitoring.scrapeCidrs; no other port may', () => {
      class MonitoredFleet extends Construct {
        public readonly topology = resolveFleet({ ...ledgerFleet(), monitoring: { scrapeCidrs: ['10.250.0.0/24'] } }, 'stack/Ledger', 'ledger').topology;
      }
      const { errors } = findingsFor('DPG-P001', (s) => {
        const fleet = new MonitoredFleet(s, 'Ledger');
        new SecurityGroup(fleet, 'sg', { ingress: [
          { fromPort: 9100, toPort: 9100, protocol: 'tcp', cidrBlocks: ['10.250.0.0/24', '10.64.0.0/20'] },
          { fromPort: 9187, toPort: 9187, protocol: 'tcp', cidrBlocks: ['10.250.0.0/24'] },
          { fromPort: 9187, toPort: 9187, protocol: 'tcp', cidrBlocks: ['10.251.0.0/24'] },
          { fromPort: 8008, toPort: 8008, protocol: 'tcp', cidrBlocks: ['10.250.0.0/24'] },
        ] });
      });
      expect(errors).toEqual([
        expect.stringMatching(/ingress\[2\] opens tcp 9187 to 10\.251\.0\.0\/24, outside fleet 'ledger'/),
        expect.stringMatching(/ingress\[3\] opens tcp 8008 to 10\.250\.0\.0\/24, outside fleet 'ledger'/),
      ]);
    });

    test('the same rule outside the fleet construct is only held to private ranges', () => {
      const { all } = findingsFor('DPG-P001', (s) => {
        new FleetScope(s, 'Ledger');
        new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 2379, toPort: 2380, protocol: 'tcp', cidrBlocks: ['192.168.0.0/16'] }] });
      });
      expect(all).toEqual([]);
    });
  });
});

describe('DPG-P002 public IP on a machine', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['aws_instance associate_public_ip_address', (s) => awsMachine(s, 'pg', { associatePublicIpAddress: true }), /associate_public_ip_address is true/],
    ['google_compute_instance access_config', (s) => gcpMachine(s, 'pg', { networkInterface: [{ subnetwork: 'sub', accessConfig: [{}] }] }), /network_interface\[0\]\.access_config gives the machine an external IP/],
    ['google_compute_instance ipv6_access_config', (s) => gcpMachine(s, 'pg', { networkInterface: [{ subnetwork: 'sub', ipv6AccessConfig: [{ networkTier: 'PREMIUM' }] }] }), /ipv6_access_config/],
    ['aws_eip on an instance', (s) => new Eip(s, 'ip', { instance: awsMachine(s, 'pg').id }), /an Elastic IP is attached to instance \$\{aws_instance\.pg\.id\}/],
    ['aws_launch_template public interface', (s) => new LaunchTemplate(s, 'lt', {
      networkInterfaces: [{ associatePublicIpAddress: 'true' }], metadataOptions: { httpTokens: 'required' },
      blockDeviceMappings: [{ deviceName: '/dev/sda1', ebs: { encrypted: 'true' } }],
    }), /network_interfaces\[0\]\.associate_public_ip_address is true/],
  ])('flags %s', (_name, build, expected) => {
    expect(findingsFor('DPG-P002', build).errors).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['a private AWS machine', (s) => awsMachine(s, 'pg', { associatePublicIpAddress: false })],
    ['a private GCP machine', (s) => gcpMachine(s, 'pg')],
    ['an Elastic IP for a NAT gateway', (s) => new Eip(s, 'nat', { domain: 'vpc' })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P002', build).all).toEqual([]);
  });
});

describe('DPG-P003 internet-facing subnet or load balancer (warning)', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['a subnet mapping public IPs', (s) => new Subnet(s, 'sn', { vpcId: 'vpc-1', cidrBlock: '10.64.0.0/24', mapPublicIpOnLaunch: true }), /map_public_ip_on_launch is true/],
    ['an aws_lb without internal', (s) => new Lb(s, 'lb', { loadBalancerType: 'network', subnets: ['subnet-1'] }), /internal is not true/],
    ['a forwarding rule with the default scheme', (s) => new ComputeForwardingRule(s, 'fr', { name: 'fr', region: 'europe-west3', portRange: '5432' }), /load_balancing_scheme is EXTERNAL/],
  ])('warns about %s', (_name, build, expected) => {
    const found = findingsFor('DPG-P003', build);
    expect(found.errors).toEqual([]);
    expect(found.warnings).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['a private subnet', (s) => new Subnet(s, 'sn', { vpcId: 'vpc-1', cidrBlock: '10.64.0.0/24' })],
    ['an internal NLB', (s) => new Lb(s, 'lb', { loadBalancerType: 'network', internal: true, subnets: ['subnet-1'] })],
    ['an internal forwarding rule', (s) => new ComputeForwardingRule(s, 'fr', { name: 'fr', region: 'europe-west3', loadBalancingScheme: 'INTERNAL', ports: ['5432'] })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P003', build).all).toEqual([]);
  });
});

describe('DPG-P004 unencrypted disk', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['an instance without root_block_device', (s) => awsMachine(s, 'pg', { rootBlockDevice: undefined }), /root_block_device is not declared/],
    ['an unencrypted root volume', (s) => awsMachine(s, 'pg', { rootBlockDevice: { encrypted: false } }), /root_block_device\.encrypted is not true/],
    ['an unencrypted inline EBS device', (s) => awsMachine(s, 'pg', { ebsBlockDevice: [{ deviceName: '/dev/sdf' }] }), /ebs_block_device\[0\] \(\/dev\/sdf\)\.encrypted is not true/],
    ['an unencrypted aws_ebs_volume', (s) => new EbsVolume(s, 'data', { availabilityZone: 'us-east-1a', size: 100 }), /encrypted is not true/],
    ['a launch template without mappings', (s) => new LaunchTemplate(s, 'lt', { metadataOptions: { httpTokens: 'required' } }), /no block_device_mappings/],
  ])('flags %s', (_name, build, expected) => {
    expect(findingsFor('DPG-P004', build).errors).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['an encrypted machine and data volume', (s) => {
      awsMachine(s, 'pg', { ebsBlockDevice: [{ deviceName: '/dev/sdf', encrypted: true }] });
      new EbsVolume(s, 'data', { availabilityZone: 'us-east-1a', size: 100, encrypted: true, type: 'gp3' });
    }],
    ['a Google persistent disk (always encrypted)', (s) => new ComputeDisk(s, 'd', { name: 'd', zone: 'europe-west3-a', size: 100 })],
    ['an encrypted launch template', (s) => new LaunchTemplate(s, 'lt', { metadataOptions: { httpTokens: 'required' }, blockDeviceMappings: [{ deviceName: '/dev/sda1', ebs: { encrypted: 'true' } }] })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P004', build).all).toEqual([]);
  });
});

describe('DPG-P005 IMDSv1 allowed', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['no metadata_options', (s) => awsMachine(s, 'pg', { metadataOptions: undefined }), /metadata_options is not declared, so IMDSv1 is allowed/],
    ['http_tokens optional', (s) => awsMachine(s, 'pg', { metadataOptions: { httpTokens: 'optional' } }), /metadata_options\.http_tokens is "optional", not "required"/],
    ['metadata_options without http_tokens', (s) => awsMachine(s, 'pg', { metadataOptions: { httpPutResponseHopLimit: 1 } }), /http_tokens is null/],
    ['a launch template allowing IMDSv1', (s) => new LaunchTemplate(s, 'lt', { blockDeviceMappings: [{ deviceName: '/dev/sda1', ebs: { encrypted: 'true' } }] }), /metadata_options is not declared/],
  ])('flags %s', (_name, build, expected) => {
    expect(findingsFor('DPG-P005', build).errors).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['http_tokens required', (s) => awsMachine(s, 'pg')],
    ['the metadata endpoint disabled', (s) => awsMachine(s, 'pg', { metadataOptions: { httpEndpoint: 'disabled' } })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P005', build).all).toEqual([]);
  });
});

const PEM_KEY = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', '-----END PRIVATE KEY-----'].join('\n');
const gzb64 = (text: string): string => gzipSync(Buffer.from(text)).toString('base64');

describe('DPG-P006 secret value in the synthesized configuration', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['a literal database password attribute', (s) => new DbInstance(s, 'db', { instanceClass: 'db.t3.micro', engine: 'postgres', password: 'hunter2hunter2' }),
      /password holds a literal value \(14 characters\)/],
    ['a literal secret version', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x', secretString: 'correct horse battery staple' }),
      /secret_string holds a literal value/],
    ['a PEM private key in plain user_data', (s) => awsMachine(s, 'pg', { userData: `#cloud-config\nwrite_files:\n  - path: /etc/x/tls.key\n    content: |\n      ${PEM_KEY.replace(/\n/g, '\n      ')}\n` }),
      /user_data contains a PEM private key/],
    ['a password inside gzip+base64 user_data_base64', (s) => awsMachine(s, 'pg', { userDataBase64: gzb64('#cloud-config\nruncmd:\n  - psql -c "ALTER ROLE app PASSWORD \'s3cret-value\'"\n') }),
      /user_data_base64 \(base64-decoded\) contains a literal SQL PASSWORD \(line 3\)/],
    ['a password inside Fn.base64gzip(...) user_data_base64', (s) => awsMachine(s, 'pg', { userDataBase64: Fn.base64gzip(Fn.rawString('#!/bin/sh\nexport PGPASSWORD="pa55word"\npsql -h db\n')) }),
      /user_data_base64 contains 'PGPASSWORD' set to a literal value \(line 2\)/],
    ['a gz+b64 write_files file with a password in GCP user-data', (s) => gcpMachine(s, 'pg', { metadata: { 'user-data': `#cloud-config\nwrite_files:\n  - path: /etc/patroni/patroni.yml\n    encoding: gz+b64\n    content: ${gzb64('postgresql:\n  authentication:\n    superuser:\n      username: postgres\n      password: Sup3rSecret\n')}\n` } }),
      /metadata\.user-data > write_files\[0\] \/etc\/patroni\/patroni\.yml contains 'password' set to a literal value \(line 5\)/],
    ['a pgpass file with a password', (s) => gcpMachine(s, 'pg', { metadata: { 'user-data': '#cloud-config\nwrite_files:\n  - path: /var/lib/postgresql/.pgpass\n    content: "*:*:*:mesh:Mesh-Pass-1\\n"\n' } }),
      /\.pgpass contains a password in a pgpass line/],
    ['a quoted password in a program', (s) => awsMachine(s, 'pg', { userData: '#!/usr/bin/python3\ndb_password = "Hunter2Hunter2"\n' }),
      /user_data contains 'db_password' set to a literal value \(line 2\)/],
    ['a connection URL with a password', (s) => awsMachine(s, 'pg', { userData: '#!/bin/sh\npg_dump postgresql://app:Pa55w0rd@db.internal/app > /tmp/x\n' }),
      /contains a URL with a password/],
    ['AWS credentials in user_data', (s) => awsMachine(s, 'pg', { userData: '#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' }),
      /contains an AWS access key id/],
    ['a customer-supplied disk key', (s) => new ComputeDisk(s, 'd', { name: 'd', zone: 'europe-west3-a', diskEncryptionKey: { rawKey: 'SGVsbG8gZnJvbSBHb29nbGUgQ2xvdWQgUGxhdGZvcm0=' } }),
      /disk_encryption_key\.raw_key holds a literal value/],
    ['a password inside a mesh document', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x',
      secretString: meshDocumentValue({ 'setup.sql': "SELECT 1;\nALTER ROLE mesh PASSWORD 'hunter2hunter2';\n" }) }),
      /secret_string \(mesh document, setup\.sql\) contains a literal SQL PASSWORD \(line 2\)/],
    ['a password inside a scripts document', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x',
      secretString: scriptsDocumentValue({ '/usr/local/lib/distributed-postgres/mesh-keeper': '#!/bin/bash\nexport PGPASSWORD=hunter2hunter2\n' }) }),
      /secret_string \(scripts document, \/usr\/local\/lib\/distributed-postgres\/mesh-keeper\) contains 'PGPASSWORD' set to a literal value \(line 2\)/],
    ['a pgBackRest repository key in a scripts document', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x',
      secretString: scriptsDocumentValue({ '/etc/pgbackrest/pgbackrest.conf': '[global]\nrepo1-type=s3\nrepo1-s3-key-type=shared\nrepo1-s3-key=AKIDEXAMPLE\nrepo1-s3-key-secret=abc/def\n' }) }),
      /secret_string \(scripts document, \/etc\/pgbackrest\/pgbackrest\.conf\) contains a pgBackRest repository key/],
    ['a pgBackRest cipher passphrase in user_data', (s) => awsMachine(s, 'pg', { userData: '#cloud-config\nwrite_files:\n  - path: /etc/pgbackrest/pgbackrest.conf\n    content: |\n      [global]\n      repo1-cipher-pass=zWaf6XtpjIVZC5444yXB\n' }),
      /contains a pgBackRest repository key/],
    ['a mesh-document look-alike that is not one (extra key)', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x',
      secretString: JSON.stringify({ ...JSON.parse(meshDocumentValue({ 'setup.sql': 'SELECT 1;\n' })), password: 'hunter2hunter2' }) }),
      /secret_string holds a literal value/],
  ])('flags %s', (_name, build, expected) => {
    const { errors } = findingsFor('DPG-P006', build);
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    // The finding names the secret, never repeats it.
    for (const secret of ['hunter2', 'Hunter2', 'horse', 'PRIVATE KEY---', 's3cret', 'pa55word', 'Sup3rSecret', 'Mesh-Pass-1', 'Pa55w0rd', 'wJalrXUt']) {
      expect(errors.join('\n')).not.toContain(secret);
    }
  });

  test('flags a literal secret in the provider configuration', () => {
    const { errors } = findingsFor('DPG-P006', (s) => {
      const { AwsProvider } = require('@cdktf/provider-aws/lib/provider');
      new AwsProvider(s, 'keyed', { alias: 'keyed', region: 'eu-west-1', accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
    });
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(/secret_key holds a literal value/), expect.stringMatching(/access_key contains an AWS access key id/)]));
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['a secret version from a reference', (s) => {
      const secret = new SecretsmanagerSecret(s, 'secret', { name: 'ledger-postgres-superuser' });
      new SecretsmanagerSecretVersion(s, 'v', { secretId: secret.id, secretString: secret.arn });
    }],
    ['user-data that fetches secrets at boot', (s) => awsMachine(s, 'pg', { userData: [
      '#cloud-config', 'write_files:', '  - path: /etc/patroni/patroni.yml', '    content: |',
      '      postgresql:', '        pgpass: /var/lib/postgresql/.pgpass', '        authentication:', '          superuser:',
      '            username: postgres', '            password: "$SUPERUSER_PASSWORD"', '        parameters:', '          password_encryption: scram-sha-256',
      'runcmd:', '  - export PGPASSWORD="$(aws secretsmanager get-secret-value --secret-id ledger-postgres-superuser --query SecretString --output text)"',
      '  - "# the password: comes from the secret store"', '',
    ].join('\n') })],
    ['a program that computes passwords at boot (format placeholders, variables)', (s) => awsMachine(s, 'pg', { userData: [
      '#cloud-config', 'write_files:', '  - path: /usr/local/lib/materialize-secrets', '    content: |', '      #!/usr/bin/python3',
      '      password = secret(args[4]).replace(":", "\\\\:")', '      print("ALTER ROLE \\"%s\\" PASSWORD \'%s\';" % (role, verifier))',
      "      sql = f\"ALTER ROLE x PASSWORD '{password}'\"", '      api_key = os.environ["API_KEY"]', '',
    ].join('\n') })],
    ['a node group\'s mesh document (SQL, no secret)', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x',
      secretString: meshDocument(ledger, ledger.nodeGroups[0]).value })],
    ['a node group\'s scripts document (scripts, no secret)', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x',
      secretString: groupScriptsDocument(ledger, ledger.nodeGroups[0]).value })],
    ['a CA certificate (public) in user-data', (s) => awsMachine(s, 'pg', { userData: '#!/bin/sh\ncat > /etc/ca.crt <<EOF\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\nEOF\n' })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P006', build).all).toEqual([]);
  });
});

/** A stored mesh document holding `files` (see lib/render/mesh-document.ts). */
function meshDocumentValue(files: Record<string, string>): string {
  const body = gzipSync(JSON.stringify({ files }));
  return JSON.stringify({ format: 'dpg-mesh/1', generation: createHash('sha256').update(body).digest('hex').slice(0, 16), gzip: body.toString('base64') });
}

/** A stored scripts document holding `files` by path (see lib/render/scripts-document.ts). */
function scriptsDocumentValue(files: Record<string, string>): string {
  const body = gzipSync(JSON.stringify({ files: Object.entries(files).map(([path, content]) => ({ path, permissions: '0700', when: 'always', content })) }));
  return JSON.stringify({ format: 'dpg-scripts/1', sha256: createHash('sha256').update(body).digest('hex'), gzip: body.toString('base64') });
}

const ledger = resolveFleet(ledgerFleet(), 'test', 'fleet').topology;

/** A member's Patroni configuration (the parts the TLS rule reads), compliant unless changed. */
function patroniYaml(change: (p: any) => void = () => undefined): string {
  const p: any = {
    scope: 'ledger-use1', name: 'ledger-use1-pg1',
    restapi: { listen: '10.64.0.10:8008', connect_address: '10.64.0.10:8008', certfile: '/etc/distributed-postgres/tls/member.crt', keyfile: '/etc/distributed-postgres/tls/member.key' },
    etcd3: { hosts: ['10.64.0.10:2379', '10.64.1.10:2379'], protocol: 'https', cacert: '/etc/distributed-postgres/tls/ca.crt', cert: '/etc/distributed-postgres/tls/member.crt', key: '/etc/distributed-postgres/tls/member.key' },
    bootstrap: { dcs: { postgresql: { parameters: { ssl: 'on' } } } },
    postgresql: {
      listen: '0.0.0.0:5432', parameters: { ssl: 'on', ssl_cert_file: '/etc/x.crt' },
      pg_hba: ['local all all peer', 'host replication replicator 127.0.0.1/32 scram-sha-256', 'hostssl all all 10.64.0.0/12 scram-sha-256', 'hostnossl all all 0.0.0.0/0 reject'],
    },
  };
  change(p);
  const { stringify } = require('yaml');
  return stringify(p);
}

function cloudConfig(files: { path: string; content: string }[], runcmd: string[] = []): string {
  const { stringify } = require('yaml');
  return `#cloud-config\n${stringify({ write_files: files, runcmd })}`;
}

const ETCD_ENV_TLS = [
  'ETCD_NAME=ledger-use1-pg1', 'ETCD_LISTEN_CLIENT_URLS=https://10.64.0.10:2379,https://127.0.0.1:2379', 'ETCD_ADVERTISE_CLIENT_URLS=https://10.64.0.10:2379',
  'ETCD_LISTEN_PEER_URLS=https://10.64.0.10:2380', 'ETCD_INITIAL_CLUSTER=a=https://10.64.0.10:2380,b=https://10.64.1.10:2380',
  'ETCD_CERT_FILE=/etc/t/m.crt', 'ETCD_KEY_FILE=/etc/t/m.key', 'ETCD_TRUSTED_CA_FILE=/etc/t/ca.crt', 'ETCD_CLIENT_CERT_AUTH=true',
  'ETCD_PEER_CERT_FILE=/etc/t/m.crt', 'ETCD_PEER_KEY_FILE=/etc/t/m.key', 'ETCD_PEER_TRUSTED_CA_FILE=/etc/t/ca.crt', 'ETCD_PEER_CLIENT_CERT_AUTH=true',
].join('\n');

describe('DPG-P007 TLS off on a channel (user-data)', () => {
  test.each<[string, string, RegExp]>([
    ['Patroni to etcd over http', cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml((p) => { p.etcd3.protocol = 'http'; }) }]),
      /write_files\[0\] \/etc\/patroni\.yml: Patroni talks to etcd without TLS \(etcd3\.protocol is "http"\)/],
    ['Patroni without an etcd client certificate', cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml((p) => { delete p.etcd3.cert; }) }]),
      /Patroni presents no client certificate to etcd \(etcd3\.cert unset\)/],
    ['the Patroni REST API over plain HTTP', cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml((p) => { delete p.restapi.certfile; }) }]),
      /the Patroni REST API serves plain HTTP \(restapi\.certfile unset\)/],
    ['Postgres ssl off', cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml((p) => { p.postgresql.parameters.ssl = 'off'; }) }]),
      /Postgres runs without TLS \(postgresql\.parameters\.ssl is not on\)/],
    ['a plain host line in pg_hba', cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml((p) => { p.postgresql.pg_hba.push('host all all 10.64.0.0/12 scram-sha-256'); }) }]),
      /postgresql\.pg_hba line "host all all 10\.64\.0\.0\/12 scram-sha-256" accepts connections without TLS/],
    ['etcd env file with http peer URLs', cloudConfig([{ path: '/etc/default/etcd', content: ETCD_ENV_TLS.replace('ETCD_LISTEN_PEER_URLS=https', 'ETCD_LISTEN_PEER_URLS=http') }]),
      /\/etc\/default\/etcd: etcd serves or dials http:\/\/10\.64\.0\.10:2380 without TLS/],
    ['etcd env file without client-cert-auth', cloudConfig([{ path: '/etc/default/etcd', content: ETCD_ENV_TLS.replace('ETCD_CLIENT_CERT_AUTH=true', '') }]),
      /etcd does not require client certificates \(ETCD_CLIENT_CERT_AUTH is not true\)/],
    ['etcd command line without --peer-client-cert-auth', cloudConfig([], ['etcd --name a --listen-client-urls https://10.64.0.10:2379 --cert-file /t/m.crt --client-cert-auth --listen-peer-urls https://10.64.0.10:2380 --peer-cert-file /t/m.crt']),
      /runcmd: etcd does not require peer certificates \(no --peer-client-cert-auth\)/],
    ['a DSN with sslmode=prefer in a script heredoc', cloudConfig([{ path: '/usr/local/sbin/mesh.sh', content: "#!/bin/sh\ncat > /etc/mesh.sql <<'SQL'\nSELECT pglogical.create_subscription('s', 'host=10.64.16.10 dbname=app sslmode=prefer');\nSQL\n" }]),
      /a connection uses sslmode=prefer/],
    ['a shell user-data calling Patroni over http', '#!/bin/sh\ncurl -s http://10.64.0.10:8008/primary\n', /http:\/\/10\.64\.0\.10:8008 is plain HTTP on an etcd\/Patroni port/],
  ])('flags %s', (_name, userData, expected) => {
    const { errors } = findingsFor('DPG-P007', (s) => awsMachine(s, 'pg', { userData }));
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test('reads the scripts a node group\'s scripts document carries', () => {
    const value = scriptsDocumentValue({ '/usr/local/lib/distributed-postgres/mesh-keeper': '#!/bin/sh\ncurl -s http://10.64.0.10:8008/primary\n' });
    const { errors } = findingsFor('DPG-P007', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x', secretString: value }));
    expect(errors).toEqual([expect.stringMatching(/secret_string \(scripts document\) \/usr\/local\/lib\/distributed-postgres\/mesh-keeper: http:\/\/10\.64\.0\.10:8008 is plain HTTP/)]);
    expect(findingsFor('DPG-P007', (s) => new SecretsmanagerSecretVersion(s, 'v', { secretId: 'x', secretString: groupScriptsDocument(ledger, ledger.nodeGroups[0]).value })).all).toEqual([]);
  });

  test('reads gzip+base64 user-data on GCP too', () => {
    const userData = cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml((p) => { p.etcd3.protocol = 'http'; }) }]);
    const { errors } = findingsFor('DPG-P007', (s) => gcpMachine(s, 'pg', { metadata: { 'user-data': gzb64(userData), 'user-data-encoding': 'base64' } }));
    expect(errors).toEqual([expect.stringMatching(/metadata\.user-data > write_files\[0\] \/etc\/patroni\.yml: Patroni talks to etcd without TLS/)]);
  });

  test.each<[string, string]>([
    ['a TLS Patroni config and etcd env file', cloudConfig([{ path: '/etc/patroni.yml', content: patroniYaml() }, { path: '/etc/default/etcd', content: ETCD_ENV_TLS }])],
    ['a loopback-only etcd stub (written before installing etcd-server)', cloudConfig([{ path: '/etc/default/etcd', content: 'ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379\nETCD_ADVERTISE_CLIENT_URLS=http://127.0.0.1:2379\n' }])],
    ['an etcd command line with TLS everywhere', cloudConfig([], ['etcd --name a --listen-client-urls https://10.64.0.10:2379 --cert-file /t/m.crt --client-cert-auth --listen-peer-urls https://10.64.0.10:2380 --peer-cert-file /t/m.crt --peer-client-cert-auth'])],
    ['a verify-full DSN and a local health check', '#!/bin/sh\npsql "host=10.64.16.10 sslmode=verify-full sslrootcert=/etc/ca.crt" -c "select 1"\ncurl -s http://127.0.0.1:8008/health\n'],
  ])('accepts %s', (_name, userData) => {
    expect(findingsFor('DPG-P007', (s) => awsMachine(s, 'pg', { userData })).all).toEqual([]);
  });
});

describe('DPG-P008 rule opening every port', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['all protocols from a private range', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 0, toPort: 0, protocol: '-1', cidrBlocks: ['10.64.0.0/12'] }] }), /ingress\[0\] opens all protocols to 10\.64\.0\.0\/12/],
    ['every TCP port on GCP (no ports listed)', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['10.64.0.0/20'], allow: [{ protocol: 'tcp' }] }), /allow\[0\] opens every tcp port to 10\.64\.0\.0\/20/],
    ['0-65535 on AWS', (s) => new VpcSecurityGroupIngressRule(s, 'r', { securityGroupId: 'sg', ipProtocol: 'tcp', fromPort: 0, toPort: 65535, cidrIpv4: '10.64.0.10/32' }), /opens every tcp port to 10\.64\.0\.10\/32/],
  ])('flags %s', (_name, build, expected) => {
    expect(findingsFor('DPG-P008', build).errors).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['named ports', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['10.64.0.0/20'], allow: [{ protocol: 'tcp', ports: ['5432', '8008', '2379-2380'] }, { protocol: 'icmp' }] })],
    ['all traffic between members of one security group', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 0, toPort: 0, protocol: '-1', selfAttribute: true }] })],
  ])('accepts %s', (_name, build) => {
    expect(findingsFor('DPG-P008', build).all).toEqual([]);
  });
});

describe('DPG-P009 database port rule wider than needed (warning)', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['5432 from 10.0.0.0/8', (s) => new SecurityGroup(s, 'sg', { ingress: [{ fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['10.0.0.0/8'] }] }), /opens 5432 to 10\.0\.0\.0\/8 \(\/8 or wider\)/],
    ['a port range around 5432 and 8008', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['10.64.0.0/20'], allow: [{ protocol: 'tcp', ports: ['5000-9000'] }] }), /opens ports 5000-9000 \(4001 ports\) around 5432, 8008/],
  ])('warns about %s', (_name, build, expected) => {
    const found = findingsFor('DPG-P009', build);
    expect(found.errors).toEqual([]);
    expect(found.warnings).toEqual([expect.stringMatching(expected)]);
  });

  test('accepts the fleet ports from group CIDRs', () => {
    expect(findingsFor('DPG-P009', (s) => new ComputeFirewall(s, 'fw', { name: 'fw', network: 'n', sourceRanges: ['10.64.0.0/20', '10.64.16.0/20'], allow: [{ protocol: 'tcp', ports: ['5432', '8008', '2379-2380'] }] })).all).toEqual([]);
  });
});
