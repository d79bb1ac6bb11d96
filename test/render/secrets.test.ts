/** No secret value in any user-data: passwords, keys and tokens are fetched at boot; user-data names them only. */
import { parse } from 'yaml';
import { Topology } from '../../lib';
import { SECRET_PLACEHOLDER_PATTERN } from '../../lib/render/paths';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { CloudConfig, machineFile, parseCloudConfig, renderAll, topologyOf } from './helpers';
import { matrixCases } from './matrix';

const topologies: Topology[] = [
  topologyOf(ledgerFleet()), topologyOf(pglogicalFleet()), topologyOf(singleGroupDedicatedEtcd()),
  ...matrixCases().map((c) => c.topology),
];
const rendered = topologies.flatMap((topology) => renderAll(topology).map((m) => ({ topology, ...m })));
/**
 * Each distinct cloud-config parsed once for the tests below (300+ machines, fewer distinct texts: the matrix's fleets
 * share names and addresses; parsing is most of this file's time). The tests only read it.
 */
const parsed = new Map<string, CloudConfig>();
const configOf = (machine: { text: string }): CloudConfig => {
  if (!parsed.has(machine.text)) parsed.set(machine.text, parseCloudConfig(machine.text));
  return parsed.get(machine.text)!;
};

/** The leaves of a YAML text, parsed once per distinct text (the matrix's machines share most of their files). */
const parsedLeaves = new Map<string, [string, string][]>();
const leavesOf = (text: string): [string, string][] => {
  if (!parsedLeaves.has(text)) parsedLeaves.set(text, leaves(parse(text, { version: '1.1' })));
  return parsedLeaves.get(text)!;
};

/** Every (key path, string value) in a parsed YAML value. */
function leaves(value: unknown, path = ''): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  return typeof value === 'string' ? [[path, value]] : [];
}

test('no private keys, certificates or cloud credentials in any user-data', () => {
  expect(rendered.length).toBeGreaterThan(300);
  for (const { name, text } of rendered) {
    const found = [
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /-----BEGIN CERTIFICATE-----/, /-----BEGIN OPENSSH/, /\bAKIA[0-9A-Z]{16}\b/,
      /\bya29\.[0-9A-Za-z_-]+/, /aws_secret_access_key/i, /"private_key"\s*:/,
    ].filter((pattern) => pattern.test(text)).map(String);
    expect({ name, found }).toEqual({ name, found: [] });
    expect(text).not.toMatch(/-----BEGIN /);
  }
});

test('every password/secret/token value in the YAML configs is a placeholder naming one of the fleet\'s secrets', () => {
  let checked = 0;
  for (const machine of rendered) {
    const { name, text, topology } = machine;
    for (const f of configOf(machine).write_files.filter((w) => /\.(ya?ml|template)$/.test(w.path))) {
      for (const [path, value] of leavesOf(f.content)) {
        // (etcd's initial-cluster-token is a cluster name, not a credential.)
        if (!/(password|secret|token|passphrase)$/i.test(path) || path === 'initial-cluster-token') continue;
        checked++;
        expect({ name, file: f.path, path, placeholder: SECRET_PLACEHOLDER_PATTERN.test(value) }).toEqual({ name, file: f.path, path, placeholder: true });
        expect(topology.secrets.all).toContain(value.slice('{{secret:'.length, -2));
      }
    }
    // Raw text too: any `password:` line carries a placeholder.
    for (const line of text.split('\n').filter((l) => /password:/.test(l))) {
      expect({ name, line: line.trim() }).toEqual({ name, line: expect.stringMatching(/^password: "\{\{secret:[A-Za-z0-9_-]+\}\}"$/) });
    }
  }
  expect(checked).toBeGreaterThan(1000);
});

test('secret names in member.env and dpg-secret are names of the fleet\'s secrets, nothing else', () => {
  for (const machine of rendered) {
    const { name, topology } = machine;
    const files = configOf(machine).write_files;
    const env = files.find((f) => f.path === '/etc/distributed-postgres/member.env')!.content;
    for (const [, variable, value] of env.matchAll(/^(DPG_SECRET_[A-Z_]+)='([^']*)'$/gm)) {
      expect({ name, variable, known: topology.secrets.all.includes(value) }).toEqual({ name, variable, known: true });
    }
    expect(env).not.toMatch(/PASSWORD|TOKEN/);
    const command = machineFile(topology, name, '/usr/local/sbin/dpg-secret');
    const allowed = /case "\$name" in\n\s+(.*)\) ;;/.exec(command)![1].split('|').map((q) => q.slice(1, -1));
    expect(allowed).toEqual(topology.secrets.all);
    for (const f of files) if (f.content.includes('{{secret:')) expect(f.permissions).toBe('0600');
  }
});
