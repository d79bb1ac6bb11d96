/**
 * The fleet's Cloud DNS private zone, visible from the fleet's VPC: its own, or the DNS team's
 * (`network.existingDnsZone.gcpManagedZone`, possibly in a Shared VPC host project), which it writes records to.
 */
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
  /** The managed zone's name (the created zone's, or the existing one's). */
  public readonly zoneName: string;
  private readonly project?: string;
  private readonly provider: GoogleProvider;

  constructor(scope: Construct, id: string, props: GcpPrivateZoneProps) {
    super(scope, id);
    this.provider = props.provider;
    const fleet = props.topology.fleetName;
    const existing = props.topology.network.existingDnsZone;
    if (existing?.gcpManagedZone !== undefined) {
      this.zoneName = existing.gcpManagedZone;
      this.project = existing.gcpProject;
      return;
    }
    this.zoneName = new DnsManagedZone(this, 'zone', {
      provider: props.provider,
      name: `${fleet}-db`,
      dnsName: `${props.topology.network.privateDnsZone}.`,
      description: `${fleet}: members and node group endpoints (distributed-postgres)`,
      visibility: 'private',
      privateVisibilityConfig: { networks: [{ networkUrl: props.network.networkId }] },
      labels: { 'distributed-postgres-fleet': fleet },
    }).name;
  }

  /** An A record; `scope` is the construct that owns the name (a member or a node group), so it moves with its owner. */
  public addARecord(scope: Construct, id: string, fqdn: string, ips: string[], ttl: number): DnsRecordSet {
    return new DnsRecordSet(scope, id, { provider: this.provider, ...(this.project ? { project: this.project } : {}), managedZone: this.zoneName, name: `${fqdn}.`, type: 'A', ttl, rrdatas: ips });
  }
}
