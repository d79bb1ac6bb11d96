/** toReviewableJson: the synthesized JSON with cdktf's metadata dropped and every machine's user-data decoded. */
import { Testing } from 'cdktf';
import { gzipSync } from 'zlib';
import { renderCloudConfig, ReviewableUserData, toReviewableJson } from '../../lib/pipeline';
import { groupScriptsDocument, scriptsDocumentFiles } from '../../lib/render/cloud-config';
import { MESH_QUERIES_FILE, meshDocument, meshDocumentFiles, meshDocumentMetrics, meshDocumentPatroni } from '../../lib/render/mesh-document';
import { LedgerStack } from '../../stacks/ledger';

function hasMetadata(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasMetadata);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k === '//' || hasMetadata(v));
}

describe('on the ledger stack', () => {
  const stack = new LedgerStack(Testing.app(), 'ledger');
  const synthesized = Testing.synth(stack);
  const reviewable = toReviewableJson(synthesized) as Record<string, any>;

  test('every machine boots with the text shown, as synthesized (every AWS user-data fits plain: the scripts are in the scripts documents)', () => {
    const original = JSON.parse(synthesized);
    const shown = [
      ...Object.entries(reviewable.resource.aws_instance).map(([id, r]: [string, any]) => {
        const key = Object.keys(r).find((k) => k.startsWith('user_data'))!;
        return { machine: r.tags.Name, key, text: r[key], synthesized: original.resource.aws_instance[id][key.replace(' (decoded)', '')] };
      }),
      ...Object.values(reviewable.resource.google_compute_instance).map((r: any) => ({
        machine: r.name, key: 'metadata.user-data', text: r.metadata['user-data'], synthesized: r.metadata['user-data'],
      })),
    ];
    expect(shown).toHaveLength(9);
    for (const { machine, key, text, synthesized: value } of shown) {
      expect(text).toEqual(renderCloudConfig(stack.fleet.topology, machine));
      // Renamed exactly when the value Terraform receives is not the text itself.
      expect(key.endsWith(' (decoded)')).toBe(value !== text);
    }
    expect(shown.filter((s) => s.key.endsWith(' (decoded)'))).toEqual([]);
  });

  test('every scripts document is shown as its files by path, under a name that says it is decoded', () => {
    const topology = stack.fleet.topology;
    const shown = [
      ...Object.values(reviewable.resource.aws_secretsmanager_secret_version).map((v: any) => v['secret_string (decoded scripts document)']),
      ...Object.values(reviewable.resource.google_secret_manager_secret_version).map((v: any) => v['secret_data (decoded scripts document)']),
    ].filter((d) => d !== undefined);
    expect(shown).toHaveLength(topology.nodeGroups.length);
    for (const group of topology.nodeGroups) {
      const files = Object.fromEntries(scriptsDocumentFiles(topology, group).map((f) => [f.path, f.content]));
      expect(shown).toContainEqual({ format: 'dpg-scripts/1', sha256: groupScriptsDocument(topology, group).sha256, files });
    }
  });

  test('every mesh document is shown as its files, under a name that says it is decoded', () => {
    const topology = stack.fleet.topology;
    const shown = [
      ...Object.values(reviewable.resource.aws_secretsmanager_secret_version).map((v: any) => v['secret_string (decoded mesh document)']),
      ...Object.values(reviewable.resource.google_secret_manager_secret_version).map((v: any) => v['secret_data (decoded mesh document)']),
    ].filter((d) => d !== undefined);
    expect(shown).toHaveLength(topology.nodeGroups.length);
    for (const group of topology.nodeGroups) {
      const { generation } = meshDocument(topology, group);
      // Patroni's part shown as the file mesh-sync writes for it, and so is the metrics part (postgres_exporter's queries).
      const files = { ...meshDocumentFiles(topology, group), 'patroni.json': `${JSON.stringify(meshDocumentPatroni(topology, group), null, 1)}\n`,
        [MESH_QUERIES_FILE]: meshDocumentMetrics(topology, group)!.postgres_exporter_queries };
      expect(shown).toContainEqual({ format: 'dpg-mesh/1', generation, files });
    }
  });

  test("cdktf's // metadata is gone; everything else is as synthesized", () => {
    expect(hasMetadata(reviewable)).toBe(false);
    // Machines (user-data decoded) and mesh and scripts document versions (decoded) aside.
    const isDocument = (v: Record<string, any>) => Object.keys(v).some((k) => / \(decoded (mesh|scripts) document\)$/.test(k)) ||
      [v.secret_string, v.secret_data].some((x) => typeof x === 'string' && /^\{"format":"dpg-(mesh|scripts)\//.test(x));
    const withoutMachines = (doc: Record<string, any>) => {
      const { aws_instance: _a, google_compute_instance: _g, ...rest } = doc.resource;
      for (const type of ['aws_secretsmanager_secret_version', 'google_secret_manager_secret_version']) {
        rest[type] = Object.fromEntries(Object.entries(rest[type] ?? {}).filter(([, v]) => !isDocument(v as Record<string, any>)));
      }
      return { ...doc, resource: rest };
    };
    const expected = JSON.parse(synthesized, (key, value) => (key === '//' ? undefined : value));
    expect(withoutMachines(reviewable)).toEqual(withoutMachines(expected));
    expect(toReviewableJson(JSON.parse(synthesized))).toEqual(reviewable);
  });
});

describe('the encodings it reads', () => {
  const config = '#cloud-config\nruncmd:\n  - echo "${HOME}"\n';
  const gzip64 = gzipSync(config).toString('base64');
  /** How Terraform JSON writes a literal `${`. */
  const escaped = (text: string) => text.split('${').join('$${');
  const document = {
    '//': { metadata: { version: '0.21.0' } },
    resource: {
      aws_launch_template: { lt: { '//': { metadata: { path: 'x' } }, name: 'lt', user_data: Buffer.from(config).toString('base64') } },
      aws_instance: {
        plain: { tags: { Name: 'plain' }, user_data: escaped(config) },
        fn: { tags: { Name: 'fn' }, user_data: `\${base64gzip("${escaped(config.replace(/\n/g, '\\n').replace(/"/g, '\\"'))}")}` },
        none: { tags: { Name: 'none' }, ami: 'ami-1' },
      },
      google_compute_instance: {
        vm: { name: 'vm', metadata: { 'user-data': gzip64, 'user-data-encoding': 'base64', 'startup-script': 'echo hi' } },
      },
      aws_s3_bucket: { b: { bucket: 'b' } },
    },
  };

  test('base64, gzip, Terraform template escapes and base64gzip("...") become the text; other values stay', () => {
    const shown = toReviewableJson(JSON.stringify(document)) as Record<string, any>;
    expect(shown).toEqual({
      resource: {
        aws_launch_template: { lt: { name: 'lt', 'user_data (decoded)': config } },
        aws_instance: {
          plain: { tags: { Name: 'plain' }, 'user_data (decoded)': config },
          fn: { tags: { Name: 'fn' }, 'user_data (decoded)': config },
          none: { tags: { Name: 'none' }, ami: 'ami-1' },
        },
        google_compute_instance: {
          vm: { name: 'vm', metadata: { 'user-data (decoded)': config, 'user-data-encoding': 'base64', 'startup-script': 'echo hi' } },
        },
        aws_s3_bucket: { b: { bucket: 'b' } },
      },
    });
    // The input is left as it was.
    expect(document.resource.aws_launch_template.lt['//']).toBeDefined();
  });

  test('userData replaces each one with what the caller shows, keeping the attribute names', () => {
    const seen: ReviewableUserData[] = [];
    const shown = toReviewableJson(document, { userData: (u) => { seen.push(u); return `[${u.machine}]`; } }) as Record<string, any>;
    expect(seen.map(({ address, machine, attribute, text }) => ({ address, machine, attribute, same: text === config || text === 'echo hi' }))).toEqual([
      { address: 'aws_launch_template.lt', machine: 'lt', attribute: 'user_data', same: true },
      { address: 'aws_instance.plain', machine: 'plain', attribute: 'user_data', same: true },
      { address: 'aws_instance.fn', machine: 'fn', attribute: 'user_data', same: true },
      { address: 'google_compute_instance.vm', machine: 'vm', attribute: 'metadata.user-data', same: true },
      { address: 'google_compute_instance.vm', machine: 'vm', attribute: 'metadata.startup-script', same: true },
    ]);
    expect(seen[3].value).toBe(gzip64);
    expect(shown.resource.google_compute_instance.vm.metadata).toEqual({ 'user-data': '[vm]', 'user-data-encoding': 'base64', 'startup-script': '[vm]' });
    expect(shown.resource.aws_instance.plain.user_data).toBe('[plain]');
  });
});
