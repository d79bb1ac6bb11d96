/**
 * Readable snapshots of the cloud-config of one machine per role, followed by the files of its node group's scripts
 * document it writes, for review in pull requests. Two are whole texts:
 * the Spock ledger fleet's Postgres member with co-located etcd and its dedicated etcd machine. The member without etcd
 * is a diff from the member with it, and the pglogical Debian 12 fleet's machines are diffs from the same role of the
 * ledger fleet renamed to the pglogical fleet's names, so a change to what every machine runs shows up once.
 * `applyLineDiff` checks that each diff rebuilds its machine's text exactly: the diffs pin them as whole texts would.
 */
import { DistributedPostgresProps, EtcdPlacement, Topology } from '../../lib';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { meshDocument } from '../../lib/render/mesh-document';
import { applyLineDiff, bootText, lineDiff, meshDocumentFilesOf, topologyOf } from './helpers';

function dedicated(props: DistributedPostgresProps): DistributedPostgresProps {
  return { ...props, etcd: { placement: EtcdPlacement.DEDICATED } };
}

/**
 * A text of one fleet with the names of another: its fleet name and its node group names (by position), so a diff
 * between the two fleets' machines shows what their engines and settings change rather than their names.
 */
function withNamesOf(text: string, from: Topology, to: Topology): string {
  const names = [[from.fleetName, to.fleetName], ...from.nodeGroups.slice(0, to.nodeGroups.length).map((g, i) => [g.name, to.nodeGroups[i].name])];
  return names.reduce((out, [name, replacement]) => out.replace(new RegExp(`(?<![A-Za-z0-9])${name}(?![A-Za-z0-9])`, 'g'), replacement), text);
}

const spock = { plain: topologyOf(ledgerFleet()), dedicated: topologyOf(dedicated(ledgerFleet())) };
const pglogical = { plain: topologyOf(pglogicalFleet()), dedicated: topologyOf(dedicated(pglogicalFleet())) };

// Each machine's cloud-config, then the files of its group's scripts document it writes (bootText).
const text = {
  spockMember: bootText(spock.plain, 'ledger-use1-pg1'),
  spockMemberWithoutEtcd: bootText(spock.dedicated, 'ledger-use1-pg1'),
  spockEtcd: bootText(spock.dedicated, 'ledger-use1-etcd1'),
  pglogicalMember: bootText(pglogical.plain, 'rehearse-a-pg1'),
  pglogicalMemberWithoutEtcd: bootText(pglogical.dedicated, 'rehearse-a-pg1'),
  pglogicalEtcd: bootText(pglogical.dedicated, 'rehearse-a-etcd1'),
};

/** The spock texts with the pglogical fleet's names: the bases of the pglogical diffs. */
const renamed = {
  spockMember: withNamesOf(text.spockMember, spock.plain, pglogical.plain),
  spockMemberWithoutEtcd: withNamesOf(text.spockMemberWithoutEtcd, spock.dedicated, pglogical.dedicated),
  spockEtcd: withNamesOf(text.spockEtcd, spock.dedicated, pglogical.dedicated),
};

/** Each variant with the text it is shown as a diff from. */
const DIFFS: [string, string, keyof typeof text][] = [
  ['spock ledger Postgres member without etcd (dedicated quorum), from the member with co-located etcd', text.spockMember, 'spockMemberWithoutEtcd'],
  ['pglogical debian-12 Postgres member with co-located etcd, from the spock ledger one (renamed)', renamed.spockMember, 'pglogicalMember'],
  ['pglogical debian-12 Postgres member without etcd, from the spock ledger one (renamed)', renamed.spockMemberWithoutEtcd, 'pglogicalMemberWithoutEtcd'],
  ['pglogical debian-12 dedicated etcd machine, from the spock ledger one (renamed)', renamed.spockEtcd, 'pglogicalEtcd'],
];

test('spock ledger Postgres member with co-located etcd', () => {
  expect(text.spockMember).toMatchSnapshot();
});

test('spock ledger dedicated etcd machine', () => {
  expect(text.spockEtcd).toMatchSnapshot();
});

test.each(DIFFS)('%s', (_label, base, variant) => {
  const diff = lineDiff(base, text[variant]);
  expect(applyLineDiff(base, diff)).toEqual(text[variant]);
  expect(diff).toMatchSnapshot();
});

test('a line diff rebuilds its variant exactly, whatever changes', () => {
  const base = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  for (const variant of ['', 'a\nb\nc\nd\ne\nf\ng\nh\n', 'x\na\nc\nd\ne\nf\ng\nh\ny\n', 'a\nb\nC\nd\ne\nf\ng\n', 'h\ng\nf\ne\nd\nc\nb\na\n']) {
    expect(applyLineDiff(base, lineDiff(base, variant))).toEqual(variant);
  }
  expect(lineDiff(base, base)).toBe('');
  expect(lineDiff('a\nb\nc\nd\ne\nf\ng', 'a\nb\nc\nD\ne\nf\ng')).toBe('@@ -2 +2 @@\n b\n c\n-d\n+D\n e\n f');
});

/** A mesh document's files as one text, each under a `== NAME` line (from the stored value, as mesh-sync reads it). */
function documentText(topology: Topology, group: string): string {
  const files = meshDocumentFilesOf(meshDocument(topology, topology.nodeGroups.find((g) => g.name === group)!).value);
  return Object.keys(files).sort().map((name) => `== ${name}\n${files[name]}`).join('\n');
}

test('spock ledger mesh document of node group use1 (its setup, subscriptions, verify and problems SQL)', () => {
  expect(documentText(spock.plain, 'use1')).toMatchSnapshot();
});

test('pglogical debian-12 mesh document of node group a, from the spock ledger one of use1 (renamed)', () => {
  const base = withNamesOf(documentText(spock.plain, 'use1'), spock.plain, pglogical.plain);
  const variant = documentText(pglogical.plain, 'a');
  const diff = lineDiff(base, variant);
  expect(applyLineDiff(base, diff)).toBe(variant);
  expect(diff).toMatchSnapshot();
});
