/** The declaration matrix the render tests run over: engines x images x etcd placement x 1/3 groups x geoshard. */
import {
  Cloud, DistributedPostgresProps, EtcdPlacement, ImageFlavour, MachineImage, NodeGroupProps, PackageSource, ReplicationEngine,
} from '../../lib';
import { Topology } from '../../lib/topology/topology';
import { topologyIfValid } from './helpers';

export interface MatrixCase {
  readonly label: string;
  readonly engine: ReplicationEngine;
  readonly image: ImageFlavour;
  readonly packageSource: PackageSource;
  readonly topology: Topology;
}

/** A package source (and PostgreSQL version) that can install each engine on each image. */
const SOURCES: { engine: ReplicationEngine; image: ImageFlavour; source: PackageSource; version?: number }[] = [
  { engine: ReplicationEngine.SPOCK, image: ImageFlavour.UBUNTU_24_04, source: PackageSource.PGEDGE },
  { engine: ReplicationEngine.SPOCK, image: ImageFlavour.DEBIAN_12, source: PackageSource.PGEDGE, version: 16 },
  { engine: ReplicationEngine.PGLOGICAL, image: ImageFlavour.UBUNTU_24_04, source: PackageSource.DISTRO },
  { engine: ReplicationEngine.PGLOGICAL, image: ImageFlavour.DEBIAN_12, source: PackageSource.DISTRO },
  { engine: ReplicationEngine.PGLOGICAL, image: ImageFlavour.UBUNTU_24_04, source: PackageSource.PGDG, version: 17 },
  { engine: ReplicationEngine.NATIVE, image: ImageFlavour.UBUNTU_24_04, source: PackageSource.DISTRO },
  { engine: ReplicationEngine.NATIVE, image: ImageFlavour.DEBIAN_12, source: PackageSource.PGDG, version: 17 },
  { engine: ReplicationEngine.NATIVE, image: ImageFlavour.DEBIAN_13, source: PackageSource.DISTRO },
  { engine: ReplicationEngine.PGLOGICAL, image: ImageFlavour.DEBIAN_13, source: PackageSource.DISTRO },
  { engine: ReplicationEngine.SPOCK, image: ImageFlavour.DEBIAN_12, source: PackageSource.IMAGE, version: 15 },
  { engine: ReplicationEngine.PGLOGICAL, image: ImageFlavour.UBUNTU_24_04, source: PackageSource.IMAGE, version: 16 },
];

function groups(image: ImageFlavour, count: 1 | 3, source: PackageSource): NodeGroupProps[] {
  // Debian's GCE images do not run cloud-init, so Debian fleets stay on AWS; Ubuntu fleets span both clouds.
  const all: NodeGroupProps[] = image !== ImageFlavour.UBUNTU_24_04
    ? [
      { name: 'use1', cloud: Cloud.AWS, region: 'us-east-1', image },
      { name: 'use2', cloud: Cloud.AWS, region: 'us-east-2', image },
      { name: 'euw1', cloud: Cloud.AWS, region: 'eu-west-1', image },
    ]
    : [
      { name: 'usc1', cloud: Cloud.GCP, region: 'us-central1', image },
      { name: 'euw1', cloud: Cloud.AWS, region: 'eu-west-1', image },
      { name: 'euw3', cloud: Cloud.GCP, region: 'europe-west3', image },
    ];
  // Golden images: every group boots one of its cloud.
  const golden = (g: NodeGroupProps): NodeGroupProps => ({
    ...g,
    machineImage: g.cloud === Cloud.AWS ? MachineImage.awsAmiLookup('self', 'dpg-golden-*') : MachineImage.gcpImage('dpg-golden'),
  });
  return all.slice(0, count).map((g) => (source === PackageSource.IMAGE ? golden(g) : g));
}

export function matrixCases(): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const s of SOURCES) {
    for (const placement of [EtcdPlacement.CO_LOCATED, EtcdPlacement.DEDICATED]) {
      for (const count of [1, 3] as const) {
        for (const geoshard of [false, true]) {
          const nodeGroups = groups(s.image, count, s.source);
          const props: DistributedPostgresProps = {
            name: 'mx',
            nodeGroups,
            etcd: { placement },
            postgres: { packageSource: s.source, ...(s.version ? { version: s.version } : {}) },
            replication: { engine: s.engine, globalTables: ['public.items', 'app.accounts'] },
            geoshards: geoshard
              ? [{
                name: 'eu',
                nodeGroups: nodeGroups.slice(-2).map((g) => g.name),
                tables: [{ table: 'app.entries', partition: 'app.entries_eu', values: ['eu', 'uk'] }],
              }]
              : [],
            network: { clientCidrs: ['10.200.0.0/16'] },
          };
          const topology = topologyIfValid(props);
          if (!topology) continue;
          cases.push({
            label: `${s.engine}/${s.image}/${s.source}/${placement}/${count}g${geoshard ? '/geo' : ''}`,
            engine: s.engine,
            image: s.image,
            packageSource: s.source,
            topology,
          });
        }
      }
    }
  }
  return cases;
}
