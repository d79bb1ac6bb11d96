/** Small pure helpers of the AWS constructs. */
import { summarizeCidrs } from '../../../lib/net/cidr-summary';
import { awsArchitectureOf } from '../../../lib/cloud/aws/images';
import { boundedName } from '../../../lib/cloud/aws/region';
import { tunnelInsideAddresses } from '../../../lib/cloud/interconnect/ha-vpn';

test('summarizeCidrs merges adjacent siblings and drops contained blocks, never widening', () => {
  expect(summarizeCidrs(['10.64.16.0/20', '10.64.0.0/20'])).toEqual(['10.64.0.0/19']);
  expect(summarizeCidrs(['10.64.0.0/20', '10.64.16.0/20', '10.64.32.0/20'])).toEqual(['10.64.0.0/19', '10.64.32.0/20']);
  // 10.64.16.0/20 + 10.64.32.0/20 are adjacent but not siblings: merging them would admit 10.64.0.0/20 or 10.64.48.0/20.
  expect(summarizeCidrs(['10.64.16.0/20', '10.64.32.0/20'])).toEqual(['10.64.16.0/20', '10.64.32.0/20']);
  expect(summarizeCidrs(['10.0.0.0/8', '10.64.0.0/20', '192.168.1.0/24'])).toEqual(['10.0.0.0/8', '192.168.1.0/24']);
  // 100 consecutive /20s = 6 /16s + 4 /20s.
  const hundred = Array.from({ length: 100 }, (_, i) => `10.${64 + Math.floor(i / 16)}.${(i % 16) * 16}.0/20`);
  expect(summarizeCidrs(hundred)).toEqual(['10.64.0.0/14', '10.68.0.0/15', '10.70.0.0/18']);
  expect(() => summarizeCidrs(['10.0.0.1/8'])).toThrow(/not a CIDR block/);
});

test('Graviton instance types boot arm64 images', () => {
  expect(awsArchitectureOf('m6i.large')).toBe('x86_64');
  expect(awsArchitectureOf('t3.small')).toBe('x86_64');
  expect(awsArchitectureOf('m7g.large')).toBe('arm64');
  expect(awsArchitectureOf('c6gd.xlarge')).toBe('arm64');
  expect(awsArchitectureOf('t4g.small')).toBe('arm64');
  expect(awsArchitectureOf('r8g.2xlarge')).toBe('arm64');
  expect(awsArchitectureOf('g5.xlarge')).toBe('x86_64');
});

test('boundedName keeps short names and shortens long ones deterministically and distinctly', () => {
  expect(boundedName('ledger-use1', 32)).toBe('ledger-use1');
  const a = boundedName('a-very-long-fleet-name-with-a-long-group', 32);
  const b = boundedName('a-very-long-fleet-name-with-a-long-groupx', 32);
  expect(a).toHaveLength(32);
  expect(a).not.toEqual(b);
  expect(boundedName('a-very-long-fleet-name-with-a-long-group', 32)).toEqual(a);
  expect(a).toMatch(/^[a-z0-9-]+$/);
});

test('tunnel inside addresses: AWS takes .1 of the /30, GCP .2', () => {
  expect(tunnelInsideAddresses('169.254.21.4/30')).toEqual({ aws: '169.254.21.5', gcp: '169.254.21.6', prefix: 30 });
  expect(() => tunnelInsideAddresses('169.254.21.0/29')).toThrow(/not a \/30/);
});
