/**
 * Synth writes the alerting rules next to the stack's Terraform JSON, like topology.mmd, byte-identical every time; a
 * fleet without monitoring gets none.
 */
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformStack } from 'cdktf';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cloud, DistributedPostgres, DistributedPostgresProps } from '../../lib';
import { renderAlertRules, resolveFleet } from '../../lib/pipeline';

const fleet = (name: string, fleetCidr: string): DistributedPostgresProps => ({
  name,
  nodeGroups: [{ name: 'main', cloud: Cloud.GCP, region: 'us-central1' }],
  network: { fleetCidr },
});

const unmonitored = (name: string, fleetCidr: string): DistributedPostgresProps => ({ ...fleet(name, fleetCidr), monitoring: { enabled: false } });

/**
 * Synthesizes an app with one stack holding `fleets` into `outdir` (a new directory unless given, removed after);
 * returns the stack's directory's files and the fleets.
 */
function synth(fleets: DistributedPostgresProps[], into?: string): { files: Record<string, string>; constructs: DistributedPostgres[] } {
  const outdir = into ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dpg-alerts-'));
  try {
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'db');
    const googleProvider = new GoogleProvider(stack, 'google', { project: 'test-project' });
    const constructs = fleets.map((props) => new DistributedPostgres(stack, props.name!, { ...props, googleProvider }));
    app.synth();
    const dir = path.join(outdir, 'stacks', 'db');
    const files = Object.fromEntries(fs.readdirSync(dir).filter((f) => !f.endsWith('.json')).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
    return { files, constructs };
  } finally {
    if (into === undefined) fs.rmSync(outdir, { recursive: true, force: true });
  }
}

test('one fleet: alerts.rules.yml beside topology.mmd, what the construct exposes and the renderer gives; identical on a second synth', () => {
  const first = synth([fleet('orders', '10.64.0.0/12')]);
  expect(Object.keys(first.files)).toEqual(['alerts.rules.yml', 'topology.mmd']);
  expect(first.files['alerts.rules.yml']).toBe(first.constructs[0].alertRules);
  expect(first.files['alerts.rules.yml']).toBe(renderAlertRules(resolveFleet(fleet('orders', '10.64.0.0/12'), 'x', 'orders').topology));
  expect(first.files['alerts.rules.yml']).toMatch(/^# orders: Prometheus alerting rules/);
  expect(synth([fleet('orders', '10.64.0.0/12')]).files).toEqual(first.files);
});

test('two fleets in one stack: alerts-<fleet>.rules.yml each, like topology-<fleet>.mmd', () => {
  const { files, constructs } = synth([fleet('orders', '10.64.0.0/12'), fleet('billing', '10.80.0.0/12')]);
  expect(Object.keys(files)).toEqual(['alerts-billing.rules.yml', 'alerts-orders.rules.yml', 'topology-billing.mmd', 'topology-orders.mmd']);
  expect(files['alerts-orders.rules.yml']).toBe(constructs[0].alertRules);
  expect(files['alerts-billing.rules.yml']).toBe(constructs[1].alertRules);
  expect(files['alerts-billing.rules.yml']).toContain('- name: billing-distributed-postgres\n');
});

test('monitoring off: no rules file and empty alertRules; an enabled fleet beside it still gets its file', () => {
  const one = synth([unmonitored('orders', '10.64.0.0/12')]);
  expect(Object.keys(one.files)).toEqual(['topology.mmd']);
  expect(one.constructs[0].alertRules).toBe('');
  const two = synth([unmonitored('orders', '10.64.0.0/12'), fleet('billing', '10.80.0.0/12')]);
  expect(Object.keys(two.files)).toEqual(['alerts-billing.rules.yml', 'topology-billing.mmd', 'topology-orders.mmd']);
  expect(two.constructs.map((c) => c.alertRules === '')).toEqual([true, false]);
  expect(two.files['alerts-billing.rules.yml']).toBe(two.constructs[1].alertRules);
});

test('monitoring turned off: the rules file an earlier synth wrote is gone', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpg-alerts-'));
  try {
    expect(Object.keys(synth([fleet('orders', '10.64.0.0/12')], outdir).files)).toEqual(['alerts.rules.yml', 'topology.mmd']);
    expect(Object.keys(synth([unmonitored('orders', '10.64.0.0/12')], outdir).files)).toEqual(['topology.mmd']);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
