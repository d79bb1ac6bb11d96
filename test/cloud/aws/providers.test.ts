/** Provider wiring: explicit per-region providers, lookup in the stack, one provider for all regions, clear errors. */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { DistributedPostgres, FleetValidationError } from '../../../lib';
import { ledgerFleet, pglogicalFleet } from '../../fixtures/fleets';
import { resourcesOf, synthJson } from '../../stacks/helpers';

const newStack = () => new TerraformStack(Testing.app(), 'providers');

function errorOf(fn: () => unknown): FleetValidationError {
  try {
    fn();
  } catch (e) {
    return e as FleetValidationError;
  }
  throw new Error('expected an error');
}

test('missing providers are all reported at once, naming the construct, the regions, the groups and the fix', () => {
  const stack = newStack();
  const error = errorOf(() => new DistributedPostgres(stack, 'ledger', ledgerFleet()));
  expect(error).toBeInstanceOf(FleetValidationError);
  expect(error.message).toMatch(/^DistributedPostgres 'providers\/ledger' has 3 problem\(s\)/);
  expect(error.message).toContain("no AWS provider for region eu-west-1 (node group(s) euw1). Fix: create new AwsProvider(stack, 'aws-eu-west-1', { region: 'eu-west-1', alias: 'eu-west-1' }) before this construct");
  expect(error.message).toContain('no AWS provider for region us-east-1 (node group(s) use1)');
  expect(error.message).toContain('[DPG-PROVIDER] googleProvider: no Google provider for node group(s) euw3');
});

test('providers of the stack are found by region; explicit ones win', () => {
  const stack = newStack();
  const east = new AwsProvider(stack, 'east', { region: 'us-east-1', alias: 'east' });
  new AwsProvider(stack, 'west', { region: 'eu-west-1', alias: 'west' });
  const override = new AwsProvider(stack, 'west-other-account', { region: 'eu-west-1', alias: 'west-other' });
  new GoogleProvider(stack, 'google', { project: 'p' });
  new DistributedPostgres(stack, 'ledger', { ...ledgerFleet(), awsProviders: [{ region: 'eu-west-1', provider: override }] });
  const json = synthJson(stack);
  const providerOf = (region: string) => new Set(resourcesOf(json, 'aws_instance').filter(([, r]) => r.region === region).map(([, r]) => r.provider));
  expect(providerOf('us-east-1')).toEqual(new Set(['aws.east']));
  expect(providerOf('eu-west-1')).toEqual(new Set(['aws.west-other']));
  expect(east.region).toBe('us-east-1');
});

test('two stack providers for one region are ambiguous', () => {
  const stack = newStack();
  new AwsProvider(stack, 'a', { region: 'us-east-1', alias: 'a' });
  new AwsProvider(stack, 'b', { region: 'us-east-1', alias: 'b' });
  new AwsProvider(stack, 'c', { region: 'us-east-2', alias: 'c' });
  const error = errorOf(() => new DistributedPostgres(stack, 'r', pglogicalFleet()));
  expect(error.message).toContain("the stack has 2 AWS providers for us-east-1 ('providers/a', 'providers/b') and node group(s) a need one. Fix: pass awsProviders: [{ region: 'us-east-1', provider }].");
  expect(error.message).toMatch(/has 1 problem\(s\)/);
});

test("one AWS provider serves every region: each resource carries its own region", () => {
  const stack = newStack();
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  new DistributedPostgres(stack, 'r', pglogicalFleet());
  const json = synthJson(stack);
  const regions = resourcesOf(json, 'aws_instance').map(([, r]) => r.region).sort();
  expect(regions).toEqual(['us-east-1', 'us-east-1', 'us-east-1', 'us-east-2', 'us-east-2', 'us-east-2']);
  const accepter = resourcesOf(json, 'aws_vpc_peering_connection_accepter')[0][1];
  expect(accepter.region).toBe('us-east-2');
});

test('a cloud-config too large for AWS is a declaration finding, reported with the provider findings; nothing is created', () => {
  const stack = newStack();
  // Incompressible values: too large for AWS's 16 KB even gzipped.
  let seed = 7;
  const letter = () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[(seed = (seed * 1103515245 + 12345) % 2147483648) % 62];
  const big = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`app.setting_${i}`, Array.from({ length: 200 }, letter).join('')]));
  const error = errorOf(() => new DistributedPostgres(stack, 'r', { ...pglogicalFleet(), postgres: { ...pglogicalFleet().postgres, parameters: big } }));
  expect(error).toBeInstanceOf(FleetValidationError);
  expect(error.message).toMatch(/^DistributedPostgres 'providers\/r' has 8 problem\(s\)/);
  expect(error.message).toContain('[DPG-PROVIDER] awsProviders: no AWS provider for region us-east-1');
  expect(error.message).toMatch(/\[DPG-USER-DATA\] node group a, machine rehearse-a-pg1: the cloud-config of 'rehearse-a-pg1' is \d+ bytes \(\d+ gzipped\), above AWS's user-data limit/);
  expect(stack.node.findAll().filter((c) => (c as any).terraformResourceType)).toEqual([]);
});
