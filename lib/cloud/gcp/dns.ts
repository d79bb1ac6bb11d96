/** The fleet's Cloud DNS private zone, visible from the fleet's VPC. */
import { DnsManagedZone } from '@cdktf/provider-google/lib/dns-managed-zone';
import { DnsRecordSet } from '@cdktf/provider-google/lib/dns-record-set';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { Construct } from 'constructs';
import { Topology } from '../../topology/topology';
import { GcpFleetNetwork } from './network';

export interface GcpPrivateZoneProps {
  readonly topology: Topology;
  readonly provider: GoogleProvider;
  readonly network: GcpFleetNetwork;
}

export class GcpPrivateZone extends Construct {
  public readonly zone: DnsManagedZone;
  private readonly provider: GoogleProvider;

  constructor(scope: Construct, id: string, props: GcpPrivateZoneProps) {
    super(scope, id);
    this.provider = props.provider;
    const fleet = props.topology.fleetName;
    this.zone = new DnsManagedZone(this, 'zone', {
      provider: props.provider,
      name: `${fleet}-db`,
      dnsName: `${props.topology.network.privateDnsZone}.`,
      description: `${fleet}: members and node group endpoints (distributed-postgres)`,
      visibility: 'private',
      privateVisibilityConfig: { networks: [{ networkUrl: props.network.network.id }] },
      labels: { 'distributed-postgres-fleet': fleet },
    });
  }

  /** An A record; `scope` is the construct that owns the name (a member or a node group), so it moves with its owner. */
  public addARecord(scope: Construct, id: string, fqdn: string, ips: string[], ttl: number): DnsRecordSet {
    return new DnsRecordSet(scope, id, { provider: this.provider, managedZone: this.zone.name, name: `${fqdn}.`, type: 'A', ttl, rrdatas: ips });
  }
}
