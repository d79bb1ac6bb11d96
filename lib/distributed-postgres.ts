import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { resolveFleet } from './fleet';
import { DistributedPostgresProps } from './spec/types';
import { Topology } from './topology/topology';

/**
 * A globally distributed, highly available PostgreSQL fleet: node groups (Patroni clusters with etcd
 * quorums) in AWS and GCP regions, joined by multi-master logical replication.
 *
 * The declaration is validated in the constructor: every problem is reported at once, naming this
 * construct, and nothing is synthesized.
 */
export class DistributedPostgres extends Construct {
  /** The resolved topology: names, placement, addresses, quorums and the replication mesh. */
  public readonly topology: Topology;

  constructor(scope: Construct, id: string, props: DistributedPostgresProps) {
    super(scope, id);
    const fleet = resolveFleet(props, this.node.path, id.toLowerCase());
    this.topology = fleet.topology;
    for (const warning of fleet.warnings) Annotations.of(this).addWarning(warning);
  }
}
