/**
 * The rendered configurations checked by the real programs that read them (system tests: Debian's etcd and Patroni;
 * Patroni 4 when DPG_PATRONI4_PYTHONPATH points at Debian 13's, else that one test is skipped and says so).
 */
import { readFileSync } from 'fs';
import { Topology } from '../../lib';
import { renderCloudConfig } from '../../lib/render';
import { meshDocumentPatroni } from '../../lib/render/mesh-document';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { fileOf, run, tempDir, topologyOf, writeTemp, yamlFileOf } from './helpers';

const PATRONI = '/etc/distributed-postgres/patroni.yml.template';
const ETCD = '/etc/distributed-postgres/etcd.yaml';

const ETCD_BINARY = '/usr/bin/etcd';
test('every etcd config key is one etcd 3.4 knows (it ignores unknown keys silently)', () => {
  const binary = readFileSync(ETCD_BINARY).toString('latin1');
  const keys = (value: Record<string, unknown>): string[] => Object.entries(value).flatMap(([k, v]) =>
    [k, ...(v && typeof v === 'object' && !Array.isArray(v) ? keys(v as Record<string, unknown>) : [])]);
  const config = yamlFileOf(renderCloudConfig(topologyOf(ledgerFleet()), 'ledger-use1-pg1'), ETCD);
  const unknown = keys(config).filter((k) => !binary.includes(`json:"${k}"`));
  expect(unknown).toEqual([]);
  expect(binary.includes('json:"no-such-etcd-key"')).toBe(false);
});

/** The template with its `{{mesh:KEY}}` values as materialize-secrets writes them (JSON is YAML). */
function withMesh(topology: Topology, member: string, template: string): string {
  const group = topology.nodeGroups.find((g) => g.members.some((m) => m.name === member))!;
  const part = meshDocumentPatroni(topology, group);
  const filled = template.replace('"{{mesh:pg_hba}}"', JSON.stringify(part.pg_hba)).replace('"{{mesh:slots}}"', JSON.stringify(part.slots));
  expect(filled).not.toContain('{{mesh:');
  return filled;
}

const PATRONI_BINARY = '/usr/bin/patroni';
test(
  'Patroni itself accepts the Debian 12 member\'s config (patroni --validate-config)', () => {
    const dir = tempDir('patroni');
    const topology = topologyOf(pglogicalFleet());
    const template = fileOf(renderCloudConfig(topology, 'rehearse-a-pg1'), PATRONI);
    const filled = withMesh(topology, 'rehearse-a-pg1', template.replace(/\{\{secret:[A-Za-z0-9_-]+\}\}/g, 'not-a-real-password'));
    const path = writeTemp(dir, 'patroni.yml', filled);
    const out = run(PATRONI_BINARY, ['--validate-config', path]);
    expect({ code: out.code, output: out.stdout + out.stderr }).toEqual({ code: 0, output: '' });
    // And it does reject a broken one.
    const broken = writeTemp(dir, 'broken.yml', filled.replace(/^scope: .*$/m, ''));
    expect(run(PATRONI_BINARY, ['--validate-config', broken]).code).not.toBe(0);
  });

test('Patroni itself accepts a restored group\'s member config (restoreFrom: the custom bootstrap method)', () => {
  const dir = tempDir('patroni-restore');
  const props: any = pglogicalFleet();
  props.nodeGroups.push({ ...props.nodeGroups[0], name: 'a-copy', number: 9, restoreFrom: { nodeGroup: props.nodeGroups[0].name, targetTime: '2026-11-27T10:14:59Z' } });
  const topology = topologyOf(props);
  const member = topology.nodeGroups.find((g) => g.name === 'a-copy')!.members[0].name;
  const template = fileOf(renderCloudConfig(topology, member), PATRONI);
  const filled = withMesh(topology, member, template.replace(/\{\{secret:[A-Za-z0-9_-]+\}\}/g, 'not-a-real-password'));
  expect(yamlFileOf(renderCloudConfig(topology, member), PATRONI).bootstrap.method).toBe('pgbackrest_restore');
  const out = run(PATRONI_BINARY, ['--validate-config', writeTemp(dir, 'patroni.yml', filled)]);
  expect({ code: out.code, output: out.stdout + out.stderr }).toEqual({ code: 0, output: '' });
});

/**
 * Patroni 4.0.7 (Debian 13) on the rehearsal-native member's config. Debian 12 has no Patroni 4: point
 * DPG_PATRONI4_PYTHONPATH at the dist-packages of trixie's `patroni` deb, unpacked (`dpkg-deb -x
 * patroni_4.0.7-3~deb13u1_all.deb DIR` then DIR/usr/lib/python3/dist-packages); it runs on Debian 12's python3 with
 * Debian 12's python3-psycopg2 and python3-etcd. bin_dir points at the PostgreSQL this machine has (the validator
 * checks that the directory holds the server binaries).
 */
const PATRONI4_PATH = process.env.DPG_PATRONI4_PYTHONPATH;
(PATRONI4_PATH ? test : test.skip)(
  'Patroni 4.0.7 accepts the Debian 13 member\'s config (patroni --validate-config), FAST timings included', () => {
    const dir = tempDir('patroni4');
    const topology = topologyOf(rehearsalNativeFleet());
    const template = fileOf(renderCloudConfig(topology, 'rh-native-a-pg1'), PATRONI);
    const filled = withMesh(topology, 'rh-native-a-pg1', template.replace(/\{\{secret:[A-Za-z0-9_-]+\}\}/g, 'not-a-real-password'))
      .replace('bin_dir: /usr/lib/postgresql/17/bin', 'bin_dir: /usr/lib/postgresql/15/bin');
    const path = writeTemp(dir, 'patroni.yml', filled);
    const env = { ...process.env, PYTHONPATH: PATRONI4_PATH };
    expect(run('/usr/bin/python3', ['-m', 'patroni', '--version'], { env }).stdout).toMatch(/ 4\.0\.\d+/);
    const out = run('/usr/bin/python3', ['-m', 'patroni', '--validate-config', path], { env });
    expect({ code: out.code, output: out.stdout + out.stderr }).toEqual({ code: 0, output: '' });
  });

if (!PATRONI4_PATH) console.warn('SKIPPED Patroni 4.0.7 --validate-config: set DPG_PATRONI4_PYTHONPATH (see configs.system.test.ts)');
