/**
 * Every example synthesizes and is runnable on its own (cdktf.json points at its compiled main). Its snapshot shows
 * what it adds to the ledger reference stack (test/stacks), whose snapshot pins everything they share.
 */
import { Testing } from 'cdktf';
import * as fs from 'fs';
import * as path from 'path';
import { GoldenImageStack } from '../../examples/golden-image/main';
import { MultiCloudGeoshardStack } from '../../examples/multi-cloud-geoshard/main';
import { SingleRegionStack } from '../../examples/single-region/main';
import { TwoRegionAwsStack } from '../../examples/two-region-aws/main';
import { machinesOf } from '../../lib/pipeline';
import { LedgerStack } from '../../stacks/ledger';
import { differencesFrom, machinesCreated, resourcesOf, synthJson } from '../stacks/helpers';

const EXAMPLES = {
  'single-region': (app: ReturnType<typeof Testing.app>) => new SingleRegionStack(app, 'single-region'),
  'two-region-aws': (app: ReturnType<typeof Testing.app>) => new TwoRegionAwsStack(app, 'two-region-aws'),
  'multi-cloud-geoshard': (app: ReturnType<typeof Testing.app>) => new MultiCloudGeoshardStack(app, 'multi-cloud-geoshard'),
  'golden-image': (app: ReturnType<typeof Testing.app>) => new GoldenImageStack(app, 'golden-image'),
};

const reference = (() => {
  const stack = new LedgerStack(Testing.app(), 'ledger');
  return { json: synthJson(stack), topology: stack.fleet.topology };
})();

describe.each(Object.entries(EXAMPLES))('%s', (name, build) => {
  test('what it adds to the ledger reference stack (snapshot)', () => {
    const stack = build(Testing.app());
    expect(differencesFrom(reference, { json: synthJson(stack), topology: stack.fleet.topology })).toMatchSnapshot();
  });

  test("every machine of the renderer's list exists once, with its address and node group", () => {
    const stack = build(Testing.app());
    const expected = machinesOf(stack.fleet.topology).map((m) => ({ name: m.name, privateIp: m.privateIp, group: m.nodeGroup }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(machinesCreated(synthJson(stack))).toEqual(expected);
  });

  test('has a README and a cdktf.json that runs its compiled main', () => {
    const dir = path.resolve(__dirname, '../../examples', name);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/^# /);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'cdktf.json'), 'utf8'));
    expect(config.app).toBe(`node ../../dist/examples/${name}/main.js`);
    expect(fs.existsSync(path.join(dir, 'main.ts'))).toBe(true);
  });
});

test('the two-region example serves both regions with one provider, resources carrying their region', () => {
  const json = synthJson(EXAMPLES['two-region-aws'](Testing.app()));
  expect(new Set(resourcesOf(json, 'aws_instance').map(([, r]) => r.provider))).toEqual(new Set(['aws']));
  expect(resourcesOf(json, 'aws_instance').map(([, r]) => r.region).sort()).toEqual(['us-east-1', 'us-east-1', 'us-east-1', 'us-west-2', 'us-west-2', 'us-west-2']);
});

test('the multi-cloud example keeps EU orders inside the EU groups', () => {
  const stack = EXAMPLES['multi-cloud-geoshard'](Testing.app());
  const subscriptions = stack.fleet.topology.subscriptions;
  for (const s of subscriptions) {
    const eu = s.replicationSets.includes('geo_eu');
    expect(eu).toBe(['euc1', 'euw4'].includes(s.subscriber) && ['euc1', 'euw4'].includes(s.provider));
  }
  expect(resourcesOf(synthJson(stack), 'google_compute_vpn_tunnel')).toHaveLength(8);
});

test('the golden-image example boots its own images and installs nothing', () => {
  const json = synthJson(EXAMPLES['golden-image'](Testing.app()));
  expect(Object.values(json.data!.aws_ami).map((ami: any) => [ami.owners, ami.filter[0].values])).toEqual([[['123456789012'], ['dpg-spock-pg17-*']]]);
  for (const [, r] of resourcesOf(json, 'google_compute_instance')) {
    expect(r.boot_disk.initialize_params.image).toBe('projects/acme-images/global/images/family/dpg-spock-pg17');
    expect(r.labels).toEqual(expect.objectContaining({ 'distributed-postgres-package-source': 'image', 'distributed-postgres-engine': 'spock' }));
  }
  for (const [, r] of resourcesOf(json, 'aws_instance')) expect(r.tags['distributed-postgres:package-source']).toBe('image');
});
