/**
 * Readable snapshots of the cloud-config of one machine per role, for review in pull requests:
 * a Postgres member with co-located etcd, a Postgres member without etcd, a dedicated etcd machine;
 * for the Spock ledger fleet and the pglogical Debian 12 fleet.
 */
import { DistributedPostgresProps, EtcdPlacement } from '../../lib';
import { renderCloudConfig } from '../../lib/render';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { topologyOf } from './helpers';

function dedicated(props: DistributedPostgresProps): DistributedPostgresProps {
  return { ...props, etcd: { placement: EtcdPlacement.DEDICATED } };
}

describe.each([
  ['spock ledger', ledgerFleet(), 'ledger-use1'],
  ['pglogical debian-12', pglogicalFleet(), 'rehearse-a'],
])('%s', (_label, props, prefix) => {
  test('Postgres member with co-located etcd', () => {
    expect(renderCloudConfig(topologyOf(props), `${prefix}-pg1`)).toMatchSnapshot();
  });
  test('Postgres member without etcd (dedicated quorum)', () => {
    expect(renderCloudConfig(topologyOf(dedicated(props)), `${prefix}-pg1`)).toMatchSnapshot();
  });
  test('dedicated etcd machine', () => {
    expect(renderCloudConfig(topologyOf(dedicated(props)), `${prefix}-etcd1`)).toMatchSnapshot();
  });
});
