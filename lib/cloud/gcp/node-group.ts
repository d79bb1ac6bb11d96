/**
 * One node group on Google Cloud: machines with their planned `network_ip`, Shielded VM, no external IP and the
 * group's own service account; a separate data disk per member (device name `pgdata`, so the renderer finds
 * `/dev/disk/by-id/google-pgdata`); firewall rules; an internal passthrough TCP load balancer whose health check is
 * Patroni's `GET :8008/primary`; DNS records.
 *
 * Construct ids of stateful resources derive from names. Boot images are not tracked after creation: a new image in
 * the family never plans to replace a database machine.
 */
import { ComputeAddress } from '@cdktf/provider-google/lib/compute-address';
import { ComputeDisk } from '@cdktf/provider-google/lib/compute-disk';
import { ComputeForwardingRule } from '@cdktf/provider-google/lib/compute-forwarding-rule';
import { ComputeInstance } from '@cdktf/provider-google/lib/compute-instance';
import { ComputeInstanceGroup } from '@cdktf/provider-google/lib/compute-instance-group';
import { ComputeRegionBackendService } from '@cdktf/provider-google/lib/compute-region-backend-service';
import { ComputeRegionHealthCheck } from '@cdktf/provider-google/lib/compute-region-health-check';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { withGovernance } from '../governance';
import { EncodedUserData, GCP_DATA_DISK_DEVICE_NAME } from '../../render';
import { ImageName, MachineImageRef, NodeGroup, PORTS, Topology } from '../../topology/topology';
import { GcpBackupBucket } from './backup';
import { GcpGroupIdentity } from './identity';
import { GcpFleetNetwork } from './network';
import { GcpFleetSecrets } from './secrets';
import { sharedDependsOn } from '../depends-on';

export interface GcpNodeGroupProps {
  readonly topology: Topology;
  readonly group: NodeGroup;
  readonly network: GcpFleetNetwork;
  /** The fleet's secrets: the group's machines read them with their own service account. */
  readonly secrets: GcpFleetSecrets;
  /** The backup bucket of the group's region (absent when the group's backups are off). */
  readonly backupBucket?: GcpBackupBucket;
  readonly userData: (machineName: string) => EncodedUserData;
  readonly addDnsRecord: (scope: Construct, fqdn: string, ips: string[], ttl: number) => void;
  /** Created before the machines: the secrets they read at boot (their permissions are added here). */
  readonly bootAfter: TerraformResource[];
}

const ROOT_DISK_GIB = { postgres: 30, etcd: 20 };
const MEMBER_TTL = 300;
const ENDPOINT_TTL = 60;

/** Arm machine families (Tau T2A, Axion C4A/N4A) boot the arm64 image. */
export function gcpArchitectureOf(machineType: string): 'amd64' | 'arm64' {
  return /^(t2a|c4a|n4a)-/.test(machineType) ? 'arm64' : 'amd64';
}

/**
 * The boot image: the declared machine image (a golden image, which runs cloud-init whatever OS it is built on), else
 * the official image family (cloud-init built in). Debian's GCE images do not run cloud-init: validation rejects them.
 */
export function gcpImageOf(image: ImageName, machineType: string, machineImage?: MachineImageRef): string {
  if (machineImage) {
    if (machineImage.kind !== 'gcp-image' || !machineImage.gcpImage) {
      throw new Error(`GcpNodeGroup: machine image ${JSON.stringify(machineImage)} is not a GCP image; use MachineImage.gcpImage`);
    }
    return machineImage.gcpImage;
  }
  if (image !== 'ubuntu-24.04') {
    throw new Error(`GcpNodeGroup: image ${image} does not run cloud-init on Google Cloud; use ubuntu-24.04`);
  }
  return `projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-${gcpArchitectureOf(machineType)}`;
}

/**
 * The inventory labels of a database or etcd machine: the AWS tags' `distributed-postgres:<key>` as
 * `distributed-postgres-<key>`. Label values allow only lower-case letters, digits, `_` and `-`, so the image
 * flavour's `.` becomes `_` (`ubuntu-24_04`).
 */
export function gcpInventoryLabels(topology: Topology, group: NodeGroup): Record<string, string> {
  return {
    'distributed-postgres-engine': topology.replication.engine,
    'distributed-postgres-image': group.image.replace(/\./g, '_'),
    'distributed-postgres-package-source': topology.postgres.packageSource,
    'distributed-postgres-postgres': String(topology.postgres.version),
  };
}

export class GcpNodeGroup extends Construct {
  public readonly instances: Record<string, ComputeInstance> = {};
  /** The service account of the group's machines (`identity`). */
  public readonly identity: GcpGroupIdentity;

  constructor(scope: Construct, id: string, props: GcpNodeGroupProps) {
    super(scope, id);
    const { topology, group, network } = props;
    const provider = network.provider;
    const fleet = topology.fleetName;
    const subnetwork = network.subnetworkOf(group);
    const labels = (name: string) => ({ name, 'distributed-postgres-fleet': fleet, 'distributed-postgres-node-group': group.name });
    network.allowGroupIngress(this, topology, group);
    this.identity = new GcpGroupIdentity(this, 'identity', { topology, group, provider, secrets: props.secrets, backupBucket: props.backupBucket });
    const bootAfter = [...props.bootAfter, ...this.identity.readableAfter];

    // The region's customer-managed key, when the declaration names one (else Google-managed keys).
    const diskKey = topology.encryption?.gcpDiskKmsKeys[group.region];
    const machine = (owner: Construct, name: string, zone: string, ip: string, machineType: string, rootGiB: number, dataDisk?: ComputeDisk) => {
      const userData = props.userData(name);
      if (group.existingNetwork) {
        // A shared subnetwork: the planned address is reserved, so GCP never gives it to another machine.
        new ComputeAddress(owner, 'reserved-address', {
          provider, name: `${name}-ip`, region: group.region, subnetwork, addressType: 'INTERNAL', purpose: 'GCE_ENDPOINT', address: ip,
          description: `${name} (distributed-postgres plans this address)`,
        });
      }
      const instance = new ComputeInstance(owner, 'machine', {
        provider,
        name,
        zone,
        machineType,
        bootDisk: {
          autoDelete: true,
          ...(diskKey === undefined ? {} : { kmsKeySelfLink: diskKey }),
          initializeParams: { image: gcpImageOf(group.image, machineType, group.machineImage), size: rootGiB, type: 'pd-balanced', labels: withGovernance(labels(`${name}-root`), topology.governance?.gcpLabels) },
        },
        attachedDisk: dataDisk ? [{ source: dataDisk.id, deviceName: GCP_DATA_DISK_DEVICE_NAME, mode: 'READ_WRITE' }] : undefined,
        // No access_config: no external IP.
        networkInterface: [{ subnetwork, networkIp: ip }],
        metadata: {
          'user-data': userData.value,
          ...(userData.encoding === 'gzip+base64' ? { 'user-data-encoding': 'base64' } : {}),
          'block-project-ssh-keys': 'true',
          'enable-oslogin': 'TRUE',
        },
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        serviceAccount: { email: this.identity.serviceAccount.email, scopes: ['cloud-platform'] },
        tags: [GcpFleetNetwork.groupTag(topology, group)],
        labels: { ...labels(name), ...gcpInventoryLabels(topology, group) },
        // A machine type change stops and starts the machine in place (as on AWS); roll it one member at a time.
        allowStoppingForUpdate: true,
        lifecycle: { ignoreChanges: ['boot_disk[0].initialize_params[0].image'] },
      });
      instance.dependsOn = sharedDependsOn(bootAfter);
      return instance;
    };

    const byZone = new Map<string, ComputeInstance[]>();
    for (const member of group.members) {
      const owner = new Construct(this, member.name);
      const disk = new ComputeDisk(owner, 'data', {
        provider,
        name: `${member.name}-data`,
        zone: member.zone,
        size: group.dataDisk.sizeGiB,
        type: group.dataDisk.type,
        labels: labels(`${member.name}-data`),
        ...(diskKey === undefined ? {} : { diskEncryptionKey: { kmsKeySelfLink: diskKey } }),
      });
      const instance = machine(owner, member.name, member.zone, member.privateIp, group.machineType, ROOT_DISK_GIB.postgres, disk);
      this.instances[member.name] = instance;
      byZone.set(member.zone, [...(byZone.get(member.zone) ?? []), instance]);
      props.addDnsRecord(owner, member.fqdn, [member.privateIp], MEMBER_TTL);
    }
    for (const etcd of group.etcd.members.filter((m) => m.hostMember === '')) {
      const owner = new Construct(this, etcd.name);
      machine(owner, etcd.name, etcd.zone, etcd.privateIp, group.etcd.machineType, ROOT_DISK_GIB.etcd);
      props.addDnsRecord(owner, `${etcd.name}.${topology.network.privateDnsZone}`, [etcd.privateIp], MEMBER_TTL);
    }

    // Internal passthrough load balancer: unmanaged instance group per zone -> regional backend service -> rule.
    const healthCheck = new ComputeRegionHealthCheck(this, 'leader-health-check', {
      provider,
      name: `${group.patroniScope}-primary`,
      region: group.region,
      description: "Patroni GET /primary: 200 only on the group's leader",
      httpsHealthCheck: { port: PORTS.patroniRest, requestPath: '/primary' },
      checkIntervalSec: 5,
      timeoutSec: 2,
      healthyThreshold: 3,
      unhealthyThreshold: 2,
    });
    const instanceGroups = group.zones.filter((z) => byZone.has(z)).map((zone) => new ComputeInstanceGroup(this, `instances-${zone}`, {
      provider,
      name: `${group.patroniScope}-${zone}`,
      zone,
      network: network.networkId,
      instances: byZone.get(zone)!.map((i) => i.selfLink),
    }));
    const backend = new ComputeRegionBackendService(this, 'leader-backend', {
      provider,
      name: `${group.patroniScope}-leader`,
      region: group.region,
      loadBalancingScheme: 'INTERNAL',
      protocol: 'TCP',
      healthChecks: [healthCheck.id],
      connectionDrainingTimeoutSec: 10,
      backend: instanceGroups.map((g) => ({ group: g.id, balancingMode: 'CONNECTION' })),
    });
    const address = new ComputeAddress(this, 'leader-address', {
      provider,
      name: `${group.patroniScope}-leader`,
      region: group.region,
      subnetwork,
      addressType: 'INTERNAL',
      purpose: 'GCE_ENDPOINT',
      address: group.loadBalancerIps[0],
    });
    new ComputeForwardingRule(this, 'leader-endpoint', {
      provider,
      name: `${group.patroniScope}-leader`,
      region: group.region,
      loadBalancingScheme: 'INTERNAL',
      backendService: backend.id,
      ipAddress: address.address,
      ipProtocol: 'TCP',
      ports: [String(PORTS.postgres)],
      network: network.networkId,
      subnetwork,
      // Subscribers in other regions (and AWS, through the VPN) reach this regional endpoint.
      allowGlobalAccess: true,
      labels: labels(`${group.patroniScope}-leader`),
    });
    props.addDnsRecord(this, group.endpointFqdn, group.loadBalancerIps, ENDPOINT_TTL);
  }
}
