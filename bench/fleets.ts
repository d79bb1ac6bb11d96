/** Benchmark declarations: fleets of N node groups spread over AWS and GCP regions (3 of every 5 groups on AWS). */
import { Cloud, DistributedPostgresProps } from '../lib';
import { knownRegions, zonesOf } from '../lib/pipeline';

export function generatedFleet(groups: number): DistributedPostgresProps {
  // Regions with at least 3 zones: a quorum of 3 must survive the loss of a zone.
  const aws = knownRegions(Cloud.AWS).filter((r) => zonesOf(Cloud.AWS, r)!.length >= 3);
  const gcp = knownRegions(Cloud.GCP).filter((r) => zonesOf(Cloud.GCP, r)!.length >= 3);
  let awsCount = 0;
  let gcpCount = 0;
  return {
    name: `bench${groups}`,
    nodeGroups: Array.from({ length: groups }, (_, i) => {
      const onAws = i % 5 < 3;
      const region = onAws ? aws[awsCount++ % aws.length] : gcp[gcpCount++ % gcp.length];
      return { name: `g${i + 1}`, number: i + 1, cloud: onAws ? Cloud.AWS : Cloud.GCP, region };
    }),
    replication: { globalTables: ['public.accounts'] },
    network: { fleetCidr: '10.0.0.0/8', clientCidrs: ['172.16.0.0/16'] },
  };
}
