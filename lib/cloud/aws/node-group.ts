/**
 * One node group on AWS: its machines (planned private IPs, IMDSv2, encrypted disks, no public IP), a separate data
 * volume per member, the security group, the internal NLB that follows the Patroni leader, and DNS records.
 *
 * Construct ids of stateful resources derive from names (member name, group name), never from list positions, so
 * a growing declaration or a refactor keeps their Terraform addresses. Instances ignore later AMI and user-data
 * changes: a library upgrade or a new image never plans to stop or replace a database machine (a changed user-data
 * reaches a machine when an operator replaces it, one member at a time; its data volume stays).
 */
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbTargetGroupAttachment } from '@cdktf/provider-aws/lib/lb-target-group-attachment';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { withGovernance } from '../governance';
import { EncodedUserData } from '../../render';
import { groupCidrs, NodeGroup, PORTS, Topology } from '../../topology/topology';
import { summarizeCidrs } from '../../net/cidr-summary';
import { amiOf, awsArchitectureOf } from './images';
import { AwsBackupBucket } from './backup';
import { AwsGroupPlacement } from './existing-network';
import { AwsGroupIdentity } from './identity';
import { awsTags, boundedName, inRegion, inventoryTags } from './region';
import { sharedDependsOn } from '../depends-on';
import { AwsFleetSecrets } from './secrets';

export interface AwsNodeGroupProps {
  readonly topology: Topology;
  readonly group: NodeGroup;
  /** The group's VPC and subnets: the region's network the construct creates, or the one the group brings. */
  readonly network: AwsGroupPlacement;
  /** The fleet's secrets of the group's region: the group's machines read them with their own role. */
  readonly secrets: AwsFleetSecrets;
  /** The backup bucket of the group's region (absent when the group's backups are off). */
  readonly backupBucket?: AwsBackupBucket;
  /** The user-data of a machine, by machine name. */
  readonly userData: (machineName: string) => EncodedUserData;
  /** Adds an A record to the fleet's private zones; `scope` owns the record. */
  readonly addDnsRecord: (scope: Construct, fqdn: string, ips: string[], ttl: number) => void;
  /** Created before the machines: the secrets they read at boot (their permissions are added here). */
  readonly bootAfter: TerraformResource[];
}

/** Where the data volume is attached (Nitro machines expose it as an NVMe device whose serial is the volume id). */
export const AWS_DATA_DEVICE = '/dev/sdf';
const ROOT_VOLUME_GIB = { postgres: 30, etcd: 20 };
const MEMBER_TTL = 300;
/** Short: clients resolve the endpoint to the load balancer's static addresses, which never change. */
const ENDPOINT_TTL = 60;

export class AwsNodeGroup extends Construct {
  /** Postgres machines by member name. */
  public readonly instances: Record<string, Instance> = {};
  public readonly loadBalancer: Lb;
  /** The role and instance profile of the group's machines (`identity`). */
  public readonly identity: AwsGroupIdentity;

  constructor(scope: Construct, id: string, props: AwsNodeGroupProps) {
    super(scope, id);
    const { topology, group, network } = props;
    const fleet = topology.fleetName;
    const target = network.target;
    const where = inRegion(target);
    const tags = (name: string) => awsTags(name, fleet, group.name);
    this.identity = new AwsGroupIdentity(this, 'identity', { topology, group, target, secrets: props.secrets, backupBucket: props.backupBucket });
    const bootAfter = [...props.bootAfter, ...this.identity.readableAfter];

    const securityGroup = new SecurityGroup(this, 'security-group', {
      ...where,
      name: `${group.patroniScope}-db`,
      description: `${group.patroniScope}: Postgres from the fleet and its clients, Patroni from the fleet, etcd inside the group`,
      vpcId: network.vpcId,
      tags: tags(`${group.patroniScope}-db`),
    });
    const allow = (rule: string, port: { from: number; to: number }, cidrs: string[], description: string) => {
      for (const cidr of summarizeCidrs(cidrs)) {
        new VpcSecurityGroupIngressRule(this, `${rule}-from-${cidr.replace(/[./]/g, '-')}`, {
          ...where,
          securityGroupId: securityGroup.id,
          ipProtocol: 'tcp',
          fromPort: port.from,
          toPort: port.to,
          cidrIpv4: cidr,
          description,
        });
      }
    };
    const { network: net } = topology;
    allow('postgres', { from: PORTS.postgres, to: PORTS.postgres }, [...net.fleetCidrs, ...net.clientCidrs], 'Postgres: fleet members, load balancers and client networks');
    // Patroni REST: the group's members and its load balancer health checks; other groups may probe leaders.
    allow('patroni', { from: PORTS.patroniRest, to: PORTS.patroniRest }, net.fleetCidrs, 'Patroni REST API: the fleet');
    // etcd is the group's own quorum: nothing outside the group talks to it.
    allow('etcd', { from: PORTS.etcdClient, to: PORTS.etcdPeer }, groupCidrs(group), 'etcd client and peer: the node group');
    // Metrics (monitoring): the exporters, HTTPS, scraped from the fleet and the declared monitoring ranges only.
    const { monitoring } = topology;
    if (monitoring.enabled) {
      const scrapers = [...net.fleetCidrs, ...monitoring.scrapeCidrs];
      allow('postgres-exporter', { from: monitoring.postgresExporterPort, to: monitoring.postgresExporterPort }, scrapers,
        'postgres_exporter (HTTPS): the fleet and the monitoring ranges');
      allow('node-exporter', { from: monitoring.nodeExporterPort, to: monitoring.nodeExporterPort }, scrapers,
        'node_exporter (HTTPS): the fleet and the monitoring ranges');
    }
    new VpcSecurityGroupEgressRule(this, 'egress', {
      ...where,
      securityGroupId: securityGroup.id,
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
      description: 'Packages at boot (through NAT), secrets, the fleet',
    });

    // The region's customer-managed key, when the declaration names one (else EBS's default key, aws/ebs).
    const keyArn = topology.encryption?.awsKmsKeys[target.region];
    const kmsKey = keyArn === undefined ? {} : { kmsKeyId: keyArn };
    const machine = (owner: Construct, name: string, zone: string, privateIp: string, instanceType: string, rootGiB: number) => {
      const userData = props.userData(name);
      const ami = amiOf(network.lookups, target, group.image, group.machineImage, awsArchitectureOf(instanceType));
      const instance = new Instance(owner, 'machine', {
        ...where,
        ami,
        instanceType,
        subnetId: network.subnetIdOf(group, zone),
        privateIp,
        associatePublicIpAddress: false,
        vpcSecurityGroupIds: [securityGroup.id, ...(group.extraSecurityGroupIds ?? [])],
        iamInstanceProfile: this.identity.instanceProfile.name,
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
        rootBlockDevice: { encrypted: true, ...kmsKey, volumeType: 'gp3', volumeSize: rootGiB, deleteOnTermination: true, tags: withGovernance(tags(`${name}-root`), topology.governance?.awsTags) },
        ...(userData.encoding === 'gzip+base64' ? { userDataBase64: userData.value } : { userData: userData.value }),
        userDataReplaceOnChange: false,
        tags: { ...tags(name), ...inventoryTags(topology, group) },
        lifecycle: { ignoreChanges: ['ami', 'user_data', 'user_data_base64'] },
      });
      instance.dependsOn = sharedDependsOn(bootAfter);
      return instance;
    };

    const lbName = boundedName(group.patroniScope.startsWith('internal-') ? `pg-${group.patroniScope}` : group.patroniScope, 32);
    const targets = new LbTargetGroup(this, 'leader-targets', {
      ...where,
      name: lbName,
      port: PORTS.postgres,
      protocol: 'TCP',
      targetType: 'instance',
      vpcId: network.vpcId,
      // After a failover the old primary's connections are cut at once, so clients reconnect to the new one.
      deregistrationDelay: '10',
      connectionTermination: true,
      healthCheck: {
        enabled: true,
        protocol: 'HTTPS',
        port: String(PORTS.patroniRest),
        path: '/primary',
        matcher: '200',
        interval: 5,
        timeout: 2,
        healthyThreshold: 3,
        unhealthyThreshold: 2,
      },
      tags: tags(lbName),
    });

    for (const member of group.members) {
      const owner = new Construct(this, member.name);
      const instance = machine(owner, member.name, member.zone, member.privateIp, group.machineType, ROOT_VOLUME_GIB.postgres);
      this.instances[member.name] = instance;
      const volume = new EbsVolume(owner, 'data', {
        ...where,
        availabilityZone: member.zone,
        size: group.dataDisk.sizeGiB,
        type: group.dataDisk.type,
        encrypted: true,
        ...kmsKey,
        // Destroying the volume (e.g. removing the member) keeps a snapshot of its data.
        finalSnapshot: true,
        tags: tags(`${member.name}-data`),
      });
      new VolumeAttachment(owner, 'data-attachment', {
        ...where,
        deviceName: AWS_DATA_DEVICE,
        volumeId: volume.id,
        instanceId: instance.id,
        stopInstanceBeforeDetaching: true,
      });
      new LbTargetGroupAttachment(owner, 'leader-target', { ...where, targetGroupArn: targets.arn, targetId: instance.id, port: PORTS.postgres });
      props.addDnsRecord(owner, member.fqdn, [member.privateIp], MEMBER_TTL);
    }
    for (const etcd of group.etcd.members.filter((m) => m.hostMember === '')) {
      const owner = new Construct(this, etcd.name);
      machine(owner, etcd.name, etcd.zone, etcd.privateIp, group.etcd.machineType, ROOT_VOLUME_GIB.etcd);
      props.addDnsRecord(owner, `${etcd.name}.${net.privateDnsZone}`, [etcd.privateIp], MEMBER_TTL);
    }

    this.loadBalancer = new Lb(this, 'leader-endpoint', {
      ...where,
      name: lbName,
      internal: true,
      loadBalancerType: 'network',
      ipAddressType: 'ipv4',
      enableCrossZoneLoadBalancing: true,
      subnetMapping: group.subnets.map((s, i) => ({ subnetId: network.subnetIdOf(group, s.zone), privateIpv4Address: group.loadBalancerIps[i] })),
      tags: tags(lbName),
    });
    new LbListener(this, 'leader-listener', {
      ...where,
      loadBalancerArn: this.loadBalancer.arn,
      port: PORTS.postgres,
      protocol: 'TCP',
      defaultAction: [{ type: 'forward', targetGroupArn: targets.arn }],
      tags: tags(lbName),
    });
    props.addDnsRecord(this, group.endpointFqdn, group.loadBalancerIps, ENDPOINT_TTL);
  }
}
