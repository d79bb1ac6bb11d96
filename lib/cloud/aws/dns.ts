/**
 * The fleet's Route 53 private hosted zone, associated with every VPC of the fleet: its own, or the DNS team's
 * (`network.existingDnsZone.awsHostedZoneId`), which the construct associates with the fleet's VPCs and writes records to.
 */
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone';
import { Route53ZoneAssociation } from '@cdktf/provider-aws/lib/route53-zone-association';
import { Construct } from 'constructs';
import { Topology } from '../../topology/topology';
import { AwsRegionNetwork } from './network';
import { AwsRegionTarget, awsTags } from './region';

export interface AwsPrivateZoneProps {
  readonly topology: Topology;
  /** Route 53 is global: the zone and its records are managed through this region's provider. */
  readonly target: AwsRegionTarget;
  /** The VPCs the construct creates (one per region). */
  readonly networks: AwsRegionNetwork[];
  /**
   * VPCs node groups bring: in the zone the construct creates; an existing zone is expected to be associated with
   * them already (the network and DNS teams own both).
   */
  readonly existingVpcs: { vpcId: string; region: string }[];
}

export class AwsPrivateZone extends Construct {
  /** The zone's id (the created zone's, or the existing one's). */
  public readonly zoneId: string;
  private readonly target: AwsRegionTarget;

  constructor(scope: Construct, id: string, props: AwsPrivateZoneProps) {
    super(scope, id);
    this.target = props.target;
    const { privateDnsZone, existingDnsZone } = props.topology.network;
    const existing = existingDnsZone?.awsHostedZoneId;
    if (existing !== undefined) {
      this.zoneId = existing;
      for (const n of props.networks) {
        new Route53ZoneAssociation(this, `association-${n.region}`, { provider: props.target.provider, zoneId: existing, vpcId: n.vpc.id, vpcRegion: n.region });
      }
      return;
    }
    this.zoneId = new Route53Zone(this, 'zone', {
      provider: props.target.provider,
      name: privateDnsZone,
      comment: `${props.topology.fleetName}: members and node group endpoints (distributed-postgres)`,
      vpc: [...props.networks.map((n) => ({ vpcId: n.vpc.id, vpcRegion: n.region })), ...props.existingVpcs.map((v) => ({ vpcId: v.vpcId, vpcRegion: v.region }))],
      tags: awsTags(privateDnsZone, props.topology.fleetName),
    }).zoneId;
  }

  /** An A record; `scope` is the construct that owns the name (a member or a node group), so it moves with its owner. */
  public addARecord(scope: Construct, id: string, fqdn: string, ips: string[], ttl: number): Route53Record {
    return new Route53Record(scope, id, { provider: this.target.provider, zoneId: this.zoneId, name: fqdn, type: 'A', ttl, records: ips });
  }
}
