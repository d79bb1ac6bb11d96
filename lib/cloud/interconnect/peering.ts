/**
 * Inter-region VPC peering between two AWS regions of the fleet: the requester asks through its own region's provider,
 * the accepter accepts through the peer region's provider, and each side routes the other's node group CIDRs.
 */
import { Route } from '@cdktf/provider-aws/lib/route';
import { VpcPeeringConnection } from '@cdktf/provider-aws/lib/vpc-peering-connection';
import { VpcPeeringConnectionAccepterA } from '@cdktf/provider-aws/lib/vpc-peering-connection-accepter';
import { Construct } from 'constructs';
import { AwsRegionNetwork } from '../aws/network';
import { awsTags, inRegion } from '../aws/region';

export interface AwsRegionPeeringProps {
  readonly fleetName: string;
  readonly requester: AwsRegionNetwork;
  readonly accepter: AwsRegionNetwork;
}

export class AwsRegionPeering extends Construct {
  public readonly connection: VpcPeeringConnection;

  constructor(scope: Construct, id: string, props: AwsRegionPeeringProps) {
    super(scope, id);
    const { fleetName, requester, accepter } = props;
    const name = `${fleetName}-${requester.region}-${accepter.region}`;
    this.connection = new VpcPeeringConnection(this, 'connection', {
      ...inRegion(requester.target),
      vpcId: requester.vpc.id,
      peerVpcId: accepter.vpc.id,
      peerRegion: accepter.region,
      autoAccept: false,
      tags: awsTags(name, fleetName),
    });
    const accepted = new VpcPeeringConnectionAccepterA(this, 'accepter', {
      ...inRegion(accepter.target),
      vpcPeeringConnectionId: this.connection.id,
      autoAccept: true,
      tags: awsTags(name, fleetName),
    });
    // Routes are named by the destination group, so a group added to one region adds one route on the other side.
    const routeTo = (from: AwsRegionNetwork, to: AwsRegionNetwork) => {
      for (const { group, cidr } of to.groupCidrs) {
        new Route(this, `${from.region}-to-${group}`, {
          ...inRegion(from.target),
          routeTableId: from.privateRouteTable.id,
          destinationCidrBlock: cidr,
          vpcPeeringConnectionId: this.connection.id,
          dependsOn: [accepted],
        });
      }
    };
    routeTo(requester, accepter);
    routeTo(accepter, requester);
  }
}
