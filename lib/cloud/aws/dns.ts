/** The fleet's Route 53 private hosted zone, associated with every VPC of the fleet. */
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone';
import { Construct } from 'constructs';
import { Topology } from '../../topology/topology';
import { AwsRegionNetwork } from './network';
import { AwsRegionTarget, awsTags } from './region';

export interface AwsPrivateZoneProps {
  readonly topology: Topology;
  /** Route 53 is global: the zone and its records are managed through this region's provider. */
  readonly target: AwsRegionTarget;
  readonly networks: AwsRegionNetwork[];
}

export class AwsPrivateZone extends Construct {
  public readonly zone: Route53Zone;
  private readonly target: AwsRegionTarget;

  constructor(scope: Construct, id: string, props: AwsPrivateZoneProps) {
    super(scope, id);
    this.target = props.target;
    const { privateDnsZone } = props.topology.network;
    this.zone = new Route53Zone(this, 'zone', {
      provider: props.target.provider,
      name: privateDnsZone,
      comment: `${props.topology.fleetName}: members and node group endpoints (distributed-postgres)`,
      vpc: props.networks.map((n) => ({ vpcId: n.vpc.id, vpcRegion: n.region })),
      tags: awsTags(privateDnsZone, props.topology.fleetName),
    });
  }

  /** An A record; `scope` is the construct that owns the name (a member or a node group), so it moves with its owner. */
  public addARecord(scope: Construct, id: string, fqdn: string, ips: string[], ttl: number): Route53Record {
    return new Route53Record(scope, id, { provider: this.target.provider, zoneId: this.zone.zoneId, name: fqdn, type: 'A', ttl, records: ips });
  }
}
