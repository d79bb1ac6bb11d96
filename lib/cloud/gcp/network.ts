/**
 * The fleet's network on Google Cloud: one global VPC (routes of every region reach every other region), a subnetwork
 * per node group, firewall rules that admit only the fleet's CIDRs, and Cloud NAT per region for package downloads at
 * boot (machines have no external IP; Secret Manager is reached through Private Google Access). When the GCP groups
 * bring a network (e.g. a Shared VPC), only the firewall rules are created, in the network's project.
 */
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeRouter } from '@cdktf/provider-google/lib/compute-router';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { DataGoogleComputeSubnetwork } from '@cdktf/provider-google/lib/data-google-compute-subnetwork';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { Construct } from 'constructs';
import { groupCidrs, NodeGroup, PORTS, Topology } from '../../topology/topology';

/**
 * Google's health check probers for internal passthrough load balancers. Their packets reach the VM from these ranges
 * (Google routes them internally; they are not internet sources) and only Patroni's port is opened to them.
 */
export const GCP_HEALTH_CHECK_RANGES = ['130.211.0.0/22', '35.191.0.0/16'];

export interface GcpFleetNetworkProps {
  readonly topology: Topology;
  readonly provider: GoogleProvider;
}

export class GcpFleetNetwork extends Construct {
  /** The network's id (`projects/P/global/networks/N`): the one created, or the one the GCP groups bring. */
  public readonly networkId: string;
  /** The project of a network the groups bring (its firewall rules go there); undefined: the provider's. */
  public readonly networkProject?: string;
  public readonly provider: GoogleProvider;
  private readonly subnetworks = new Map<string, string>();

  constructor(scope: Construct, id: string, props: GcpFleetNetworkProps) {
    super(scope, id);
    const { topology, provider } = props;
    const fleet = topology.fleetName;
    this.provider = provider;
    // The fleet's GCP groups bring one network or none (DPG-EXISTING-NETWORK).
    const brought = topology.nodeGroups.filter((g) => g.cloud === 'gcp' && g.existingNetwork?.network);
    if (brought.length > 0) {
      this.networkId = brought[0].existingNetwork!.network!;
      this.networkProject = brought[0].existingNetwork!.networkProject;
      for (const g of brought) {
        const subnetwork = g.existingNetwork!.subnetIds[0];
        this.subnetworks.set(g.name, subnetwork);
        // Read at plan: it must have the declared range (the user-data was rendered with addresses in it).
        new DataGoogleComputeSubnetwork(this, `subnetwork-${g.name}`, {
          provider,
          selfLink: subnetwork,
          lifecycle: {
            postcondition: [{
              condition: `\${self.ip_cidr_range == "${g.cidr}"}`,
              errorMessage: `node group ${g.name}: existingNetwork.subnets[0] must have the range ${g.cidr} (the machines' addresses are planned in it). Fix the declaration's cidr.`,
            }],
          },
        });
      }
      return;
    }
    this.networkId = new ComputeNetwork(this, 'network', {
      provider,
      name: fleet,
      description: `${fleet}: distributed-postgres fleet network`,
      autoCreateSubnetworks: false,
      routingMode: 'GLOBAL',
    }).id;
    for (const s of topology.network.gcpSubnetworks) {
      this.subnetworks.set(s.nodeGroup, new ComputeSubnetwork(this, `subnetwork-${s.nodeGroup}`, {
        provider,
        name: `${fleet}-${s.nodeGroup}`,
        region: s.region,
        network: this.networkId,
        ipCidrRange: s.cidr,
        privateIpGoogleAccess: true,
      }).id);
    }
    for (const region of [...new Set(topology.network.gcpSubnetworks.map((s) => s.region))].sort()) {
      const router = new ComputeRouter(this, `nat-router-${region}`, { provider, name: `${fleet}-nat-${region}`, region, network: this.networkId });
      new ComputeRouterNat(this, `nat-${region}`, {
        provider,
        name: `${fleet}-nat-${region}`,
        region,
        router: router.name,
        natIpAllocateOption: 'AUTO_ONLY',
        sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
        logConfig: { enable: true, filter: 'ERRORS_ONLY' },
      });
    }
  }

  /** The id (self link) of a node group's subnetwork. */
  public subnetworkOf(group: NodeGroup): string {
    const subnetwork = this.subnetworks.get(group.name);
    if (!subnetwork) throw new Error(`GcpFleetNetwork: node group ${group.name} has no subnetwork`);
    return subnetwork;
  }

  /** The network tag of a node group's machines: firewall rules target it. */
  public static groupTag(topology: Topology, group: NodeGroup): string {
    return `${topology.fleetName}-${group.name}`;
  }

  /** Ingress rules of one node group (GCP denies all other ingress by default). */
  public allowGroupIngress(scope: Construct, topology: Topology, group: NodeGroup): void {
    const net = topology.network;
    const targetTags = [GcpFleetNetwork.groupTag(topology, group)];
    const rule = (id: string, ports: string[], sourceRanges: string[], description: string) => new ComputeFirewall(scope, id, {
      provider: this.provider,
      name: `${group.patroniScope}-${id}`,
      ...(this.networkProject ? { project: this.networkProject } : {}),
      network: this.networkId,
      direction: 'INGRESS',
      description,
      allow: [{ protocol: 'tcp', ports }],
      sourceRanges: [...new Set(sourceRanges)].sort(),
      targetTags,
    });
    rule('allow-postgres', [String(PORTS.postgres)], [...net.fleetCidrs, ...net.clientCidrs], 'Postgres: fleet members and client networks');
    rule('allow-patroni', [String(PORTS.patroniRest)], net.fleetCidrs, 'Patroni REST API: the fleet');
    rule('allow-health-checks', [String(PORTS.patroniRest)], GCP_HEALTH_CHECK_RANGES, "Google's load balancer health check probers: Patroni GET /primary");
    rule('allow-etcd', [`${PORTS.etcdClient}-${PORTS.etcdPeer}`], groupCidrs(group), 'etcd client and peer: the node group');
    // Metrics (monitoring): the exporters, HTTPS, scraped from the fleet and the declared monitoring ranges only.
    const { monitoring } = topology;
    if (monitoring.enabled) {
      rule('allow-metrics', [String(monitoring.nodeExporterPort), String(monitoring.postgresExporterPort)],
        [...net.fleetCidrs, ...monitoring.scrapeCidrs], 'node_exporter and postgres_exporter (HTTPS): the fleet and the monitoring ranges');
    }
  }
}
