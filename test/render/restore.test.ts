/**
 * What a member of a restored node group (restoreFrom) holds: Patroni's custom bootstrap method running pgBackRest's
 * restore of the SOURCE group's stanza to the target time, the source's repository in pgbackrest.conf, no archiving,
 * no engine library and no logical replication workers, no pre_promote, mesh-keeper told to stay out of the mesh; and
 * what the other groups' mesh documents say about it (no slots; pg_hba refusing the mesh role and replication from
 * its range). Run for real in restore.system.test.ts.
 */
import { Topology } from '../../lib';
import { meshDocumentPatroni } from '../../lib/render/mesh-document';
import { antiEntropyPairsSql } from '../../lib/render/anti-entropy';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { bootFilesOf, patroniWithMeshOf, scriptsDocumentOfGroup, topologyOf } from './helpers';

const CONF = '/etc/pgbackrest/pgbackrest.conf';
const RESTORE = '/usr/local/lib/distributed-postgres/restore-bootstrap';
const settings = (text: string) => text.split('\n').filter((l) => !l.startsWith('#'));

function withCopy(base: () => any, source: string, region: string, cloud = 'aws'): Topology {
  const props: any = base();
  const like = props.nodeGroups.find((g: any) => g.name === source);
  props.nodeGroups.push({ name: `${source}-copy`, cloud, region, ...(like.image ? { image: like.image } : {}), restoreFrom: { nodeGroup: source, targetTime: '2026-11-27T11:14:59+01:00' } });
  return topologyOf(props);
}
const groupOf = (t: Topology, name: string) => t.nodeGroups.find((g) => g.name === name)!;
const firstMember = (t: Topology, name: string) => groupOf(t, name).members[0].name;

describe('pglogical fleet with a copy of a group', () => {
  const source = () => pglogicalFleet().nodeGroups[0];
  const t = () => withCopy(pglogicalFleet, source().name, source().region);
  const copy = () => `${source().name}-copy`;
  const script = () => scriptsDocumentOfGroup(t(), copy()).files.find((f) => f.path === RESTORE)!;

  test('Patroni bootstraps with the custom method that restores the source to the target time, keeping pgBackRest\'s recovery settings', () => {
    const patroni = patroniWithMeshOf(t(), firstMember(t(), copy()));
    expect(patroni.bootstrap.method).toBe('pgbackrest_restore');
    expect(patroni.bootstrap.pgbackrest_restore).toEqual({ command: RESTORE, keep_existing_recovery_conf: true });
    const script = scriptsDocumentOfGroup(t(), copy()).files.find((f) => f.path === RESTORE)!;
    expect(script.permissions).toBe('0755');
    expect(script.content).toContain(`\npgbackrest --stanza=${source().name} --pg1-path="$datadir" --type=time --target='2026-11-27 10:14:59+00' \\\n  --target-action=promote restore`);
    expect(script.content).toContain('--scope=*) ;;');
    // Neither the source nor an ordinary group bootstraps that way.
    expect(patroniWithMeshOf(t(), firstMember(t(), source().name)).bootstrap.method).toBeUndefined();
  });

  test('no engine library, no logical workers, no archiving, no pre_promote; the mesh switched off for mesh-keeper', () => {
    const patroni = patroniWithMeshOf(t(), firstMember(t(), copy()));
    const parameters = patroni.bootstrap.dcs.postgresql.parameters;
    expect(parameters.shared_preload_libraries).toBe('');
    expect(parameters.max_logical_replication_workers).toBe(0);
    expect(script().content).toContain("sed -i -E '/^[[:space:]]*(shared_preload_libraries|max_logical_replication_workers|archive_mode|archive_command|archive_library)[[:space:]]*=/d'");
    expect(parameters.archive_mode).toBeUndefined(); // off: Postgres' default (and the mesh document's Patroni part says off)
    expect(parameters.archive_command).toBeUndefined();
    expect(patroni.postgresql.pre_promote).toBeUndefined();
    const files = bootFilesOf(t(), firstMember(t(), copy()));
    expect(files['/etc/distributed-postgres/member.env']).toMatch(/^DPG_MESH='off'$/m);
    expect(bootFilesOf(t(), firstMember(t(), source().name))['/etc/distributed-postgres/member.env']).not.toMatch(/^DPG_MESH=/m);
    // The source is unchanged: its library, its pre_promote.
    const sourcePatroni = patroniWithMeshOf(t(), firstMember(t(), source().name));
    expect(sourcePatroni.bootstrap.dcs.postgresql.parameters.shared_preload_libraries).toBe('pglogical');
    expect(sourcePatroni.postgresql.pre_promote).toBeDefined();
  });

  test('pgbackrest.conf reads the source\'s repository under the source\'s stanza; no backup script, no timers', () => {
    const files = bootFilesOf(t(), firstMember(t(), copy()));
    const conf = settings(files[CONF]);
    expect(conf).toContain(`repo1-path=/${t().fleetName}/${source().name}`);
    expect(conf).toContain(`[${source().name}]`);
    expect(conf.some((l) => l.startsWith('repo1-retention'))).toBe(false);
    expect(Object.keys(files).filter((p) => /distributed-postgres-backup|\/backup$/.test(p))).toEqual([]);
  });

  test('outside the mesh: no slots for it at the others, their pg_hba refuses the mesh role and replication from its range', () => {
    const topology = t();
    const copyGroup = groupOf(topology, copy());
    for (const g of topology.nodeGroups.filter((x) => x.name !== copy())) {
      const part = meshDocumentPatroni(topology, g);
      expect(Object.keys(part.slots).filter((s) => s.includes(copyGroup.replicationNodeName))).toEqual([]);
      const rejects = part.pg_hba.filter((l) => l.endsWith(' reject'));
      expect(rejects).toEqual([`host replication all ${copyGroup.cidr} reject`, `host all ${topology.postgres.meshUser} ${copyGroup.cidr} reject`]);
      // Before any rule that admits the range.
      expect(part.pg_hba.indexOf(rejects[0])).toBeLessThan(part.pg_hba.findIndex((l) => l.startsWith('hostssl')));
      expect(antiEntropyPairsSql(topology, g)).not.toContain(`'${copy()}'`);
    }
    const own = meshDocumentPatroni(topology, copyGroup);
    expect(own.slots).toEqual({});
    expect(own.pg_hba.filter((l) => l.endsWith(' reject'))).toEqual([]);
    expect(antiEntropyPairsSql(topology, copyGroup)).toContain('WHERE false');
  });
});

test('GCP copy of a ledger group: pgBackRest reads the source\'s GCS repository', () => {
  const t = withCopy(ledgerFleet, 'euw3', 'europe-west3', 'gcp');
  const conf = settings(bootFilesOf(t, firstMember(t, 'euw3-copy'))[CONF]);
  expect(conf.slice(0, 5)).toEqual(['[global]', 'repo1-type=gcs', 'repo1-gcs-bucket=ledger-backup-europe-west3', 'repo1-gcs-key-type=auto', 'repo1-path=/ledger/euw3']);
});

test('snapshot: a restored member\'s bootstrap section, pgbackrest.conf and restore-bootstrap script', () => {
  const props: any = pglogicalFleet();
  props.nodeGroups.push({ ...props.nodeGroups[0], name: 'a-copy', number: 9, restoreFrom: { nodeGroup: props.nodeGroups[0].name, targetTime: '2026-11-27T10:14:59Z' } });
  const t = topologyOf(props);
  const member = firstMember(t, 'a-copy');
  const patroni = patroniWithMeshOf(t, member);
  const files = bootFilesOf(t, member);
  expect({
    bootstrap: { method: patroni.bootstrap.method, pgbackrest_restore: patroni.bootstrap.pgbackrest_restore },
    parameters: patroni.bootstrap.dcs.postgresql.parameters,
    pgbackrestConf: files[CONF],
    restoreBootstrap: scriptsDocumentOfGroup(t, 'a-copy').files.find((f) => f.path === RESTORE)!.content,
  }).toMatchSnapshot();
});
