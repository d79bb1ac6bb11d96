/**
 * The pack as an Aspect: how findings are reported, how errors fail synth (listing every finding and
 * writing nothing), how a suppression with a reason silences a finding and shows up, and the same
 * rules over a synthesized JSON document.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { IBlockRule, ITopologyRule, PolicyContext, PolicyFinding, PolicyLevel, TerraformBlock, Topology } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { applyPolicyPack, evaluateTerraformJson, POLICY_RULES, PolicyPack } from '../../lib/policy';
import { ledgerFleet } from '../fixtures/fleets';
import { annotationsOf } from './helpers';

/** A machine that breaks three rules (IMDSv1, unencrypted root, public IP) and a group open to the internet. */
function unsafeResources(scope: Construct): { machine: Instance; group: SecurityGroup } {
  const machine = new Instance(scope, 'pg1', { ami: 'ami-1', instanceType: 'm6i.large', associatePublicIpAddress: true });
  const group = new SecurityGroup(scope, 'members', { ingress: [{ fromPort: 5432, toPort: 5432, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] });
  return { machine, group };
}

const tmpdirs: string[] = [];
afterAll(() => {
  for (const dir of tmpdirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tmpdir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-pack-'));
  tmpdirs.push(dir);
  return dir;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('reporting', () => {
  test('each finding is an annotation [ID] title: message. Fix: ..., on the resource, without a stack trace', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    unsafeResources(stack);
    new Subnet(stack, 'public', { vpcId: 'vpc-1', cidrBlock: '10.0.0.0/24', mapPublicIpOnLaunch: true });
    applyPolicyPack(stack);
    Testing.synth(stack);
    const found = annotationsOf(stack).map((a) => `${a.level} ${a.path} ${a.text}`);
    expect(found).toEqual([
      'error stack/pg1 [DPG-P002] Public IP on a machine: associate_public_ip_address is true. Fix: remove associate_public_ip_address / access_config (and any Elastic IP on the machine); reach members privately',
      "error stack/pg1 [DPG-P004] Unencrypted disk: root_block_device is not declared, so the root volume takes the image's default (unencrypted). Fix: set encrypted = true on every EBS volume, root_block_device and launch template mapping",
      'error stack/pg1 [DPG-P005] IMDSv1 allowed: metadata_options is not declared, so IMDSv1 is allowed. Fix: set metadata_options { http_tokens = "required" } (or http_endpoint = "disabled")',
      "error stack/members [DPG-P001] Database, Patroni or etcd port reachable from outside: ingress[0] opens tcp 5432 to 0.0.0.0/0, which is not a private range. Fix: open these ports only to the fleet's private CIDRs (network.clientCidrs for application access to 5432)",
      'warning stack/public [DPG-P003] Internet-facing subnet or load balancer: map_public_ip_on_launch is true. Fix: set map_public_ip_on_launch = false, internal = true (AWS) or load_balancing_scheme = "INTERNAL" (GCP)',
    ]);
    const traces = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type.startsWith('@cdktf/')).map((m) => m.trace));
    expect(traces.every((t) => t === undefined)).toBe(true);
  });

  test('applying twice, or synthesizing twice, reports each finding once', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const { machine } = unsafeResources(stack);
    const first = applyPolicyPack(stack);
    expect(applyPolicyPack(stack)).toBe(first);
    applyPolicyPack(machine); // a second pack instance lower in the tree
    Testing.synth(stack);
    Testing.synth(stack);
    const texts = annotationsOf(stack).map((a) => a.text);
    expect(texts).toHaveLength(4);
    expect(new Set(texts).size).toBe(4);
  });

  test('applied to the App, it covers every stack already created (cdktf runs aspects per stack)', () => {
    const app = Testing.app();
    const a = new TerraformStack(app, 'a');
    const b = new TerraformStack(app, 'b');
    unsafeResources(a);
    unsafeResources(b);
    applyPolicyPack(app);
    Testing.synth(a);
    Testing.synth(b);
    expect(annotationsOf(a).filter((x) => x.level === 'error')).toHaveLength(4);
    expect(annotationsOf(b).filter((x) => x.level === 'error')).toHaveLength(4);
    expect(() => applyPolicyPack(Testing.app())).toThrow(/there is no TerraformStack in this scope/);
  });
});

describe('errors fail synth with every finding listed, and nothing is written', () => {
  test('Testing.synth(stack, true) throws with each finding and its construct path', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    unsafeResources(stack);
    applyPolicyPack(stack);
    const message = thrown(() => Testing.synth(stack, true)).message;
    expect(message).toMatch(/^Validation failed with the following errors:/);
    for (const expected of [
      /\[stack\/pg1\] \[DPG-P002\] Public IP on a machine: associate_public_ip_address is true\. Fix: /,
      /\[stack\/pg1\] \[DPG-P004\] Unencrypted disk: /,
      /\[stack\/pg1\] \[DPG-P005\] IMDSv1 allowed: /,
      /\[stack\/members\] \[DPG-P001\] .*ingress\[0\] opens tcp 5432 to 0\.0\.0\.0\/0/,
    ]) {
      expect(message).toMatch(expected);
    }
  });

  test('App.synth() throws before writing any stack file', () => {
    const outdir = tmpdir();
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'ledger');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    unsafeResources(stack);
    applyPolicyPack(stack);
    expect(() => app.synth()).toThrow(/\[ledger\/members\] \[DPG-P001\]/);
    expect(filesUnder(outdir)).toEqual([]);
  });

  test('warnings alone do not fail synth', () => {
    const outdir = tmpdir();
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'ledger');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    new Subnet(stack, 'public', { vpcId: 'vpc-1', cidrBlock: '10.0.0.0/24', mapPublicIpOnLaunch: true });
    applyPolicyPack(stack);
    app.synth();
    expect(filesUnder(outdir).map((f) => path.relative(outdir, f)).sort()).toEqual(['manifest.json', 'stacks/ledger/cdk.tf.json']);
  });
});

describe('suppressions', () => {
  test('silence one rule on a construct, with the reason reported as info', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const { machine } = unsafeResources(stack);
    PolicyPack.suppress(machine, 'DPG-P002', 'bastion host of the lab account; reviewed in SEC-142');
    applyPolicyPack(stack);
    const message = thrown(() => Testing.synth(stack, true)).message;
    expect(message).not.toMatch(/DPG-P002/);
    expect(message).toMatch(/\[stack\/pg1\] \[DPG-P005\]/);
    const infos = annotationsOf(stack).filter((a) => a.level === 'info').map((a) => `${a.path} ${a.text}`);
    expect(infos).toEqual([
      'stack/pg1 [DPG-P002] suppressed on this construct and its children. Reason: bastion host of the lab account; reviewed in SEC-142',
      'stack/pg1 [DPG-P002] suppressed: associate_public_ip_address is true. Reason: bastion host of the lab account; reviewed in SEC-142',
    ]);
  });

  test('a suppression on a scope covers its children, and synth succeeds once every error is suppressed', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    const lab = new Construct(stack, 'Lab');
    unsafeResources(lab);
    for (const id of ['DPG-P001', 'DPG-P002', 'DPG-P004', 'DPG-P005']) PolicyPack.suppress(lab, id, 'throw-away lab, destroyed nightly');
    applyPolicyPack(stack);
    expect(() => Testing.synth(stack, true)).not.toThrow();
    expect(annotationsOf(stack).filter((a) => a.level === 'error')).toEqual([]);
    expect(annotationsOf(stack).filter((a) => a.level === 'info' && / suppressed: /.test(a.text))).toHaveLength(4);
  });

  test('a reason is required, and the rule id must exist', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const { machine } = unsafeResources(stack);
    expect(() => PolicyPack.suppress(machine, 'DPG-P002', '  ')).toThrow("PolicyPack.suppress on 'stack/pg1' for DPG-P002: a reason is required. Fix: say why the finding is acceptable here.");
    expect(() => PolicyPack.suppress(machine, 'DPG-P002', undefined as any)).toThrow(/a reason is required/);
    expect(() => PolicyPack.suppress(machine, 'DPG-P999', 'typo')).toThrow(/unknown rule id "DPG-P999". Fix: use one of DPG-P001, DPG-P002/);
  });
});

describe('topology rules run on any construct exposing a topology', () => {
  class FakeFleet extends Construct {
    constructor(scope: Construct, id: string, public readonly topology: Topology) {
      super(scope, id);
    }
  }

  test('a resolved topology passes; a broken one fails synth naming the construct', () => {
    const good = resolveFleet(ledgerFleet(), 'stack/Ledger', 'ledger').topology;
    const bad: any = JSON.parse(JSON.stringify(good));
    bad.patroni.ttl = 15;
    bad.nodeGroups[0].replicationSets.push('geo_eu');
    const stack = new TerraformStack(Testing.app(), 'stack');
    new FakeFleet(stack, 'Good', good);
    new FakeFleet(stack, 'Bad', bad);
    applyPolicyPack(stack);
    const message = thrown(() => Testing.synth(stack, true)).message;
    expect(message).toMatch(/\[stack\/Bad\] \[DPG-P012\] Patroni timing outside the safe rule: ttl 15 is below Patroni's minimum of 20\. Fix: /);
    expect(message).toMatch(/\[stack\/Bad\] \[DPG-P012\] .*loop_wait 10 \+ 2 x retry_timeout 10 = 30 exceeds ttl 15/);
    expect(message).toMatch(/\[stack\/Bad\] \[DPG-P013\] .*node group 'use1' publishes 'geo_eu' but is outside geoshard 'eu'/);
    expect(message).not.toMatch(/stack\/Good/);
  });
});

describe('the same rules over a synthesized JSON document', () => {
  test('evaluateTerraformJson finds what the Aspect finds', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    unsafeResources(stack);
    const json = JSON.parse(Testing.synth(stack));
    const found = evaluateTerraformJson(json).map((r) => `${r.level} ${r.path} ${r.ruleId}`);
    expect(found).toEqual([
      'error aws_instance.pg1 DPG-P002',
      'error aws_instance.pg1 DPG-P004',
      'error aws_instance.pg1 DPG-P005',
      'error aws_security_group.members DPG-P001',
    ]);
  });

  test('every rule has an id, a level, a title, an explanation and a fix', () => {
    expect(POLICY_RULES.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `DPG-P${String(i + 1).padStart(3, '0')}`));
    for (const rule of POLICY_RULES) {
      expect(rule.title.length).toBeGreaterThan(5);
      expect(rule.explanation.length).toBeGreaterThan(40);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });
});

describe('rules of your own', () => {
  /** How a jsii language writes a rule: a class implementing the interface's check method. */
  class NoT2Micro implements IBlockRule {
    public readonly kind = 'block';
    public readonly id = 'ACME-001';
    public readonly level = PolicyLevel.WARNING;
    public readonly title = 'Burstable machine';
    public readonly explanation = 'A t2 machine runs out of CPU credits under steady load.';
    public readonly fix = 'use an m6i or larger machine';
    public readonly types = ['aws_instance'];
    public check(block: TerraformBlock, _context: PolicyContext): PolicyFinding[] {
      return String(block.config.instance_type).startsWith('t2.') ? [{ message: `instance_type is ${block.config.instance_type}` }] : [];
    }
  }
  /** How TypeScript usually writes one: an object literal whose check is an arrow function. */
  const oneGroupOnly: ITopologyRule = {
    kind: 'topology',
    id: 'ACME-002',
    level: PolicyLevel.WARNING,
    title: 'Several node groups',
    explanation: 'This team runs a single node group per fleet.',
    fix: 'split the fleet',
    check: (t: Topology) => (t.nodeGroups.length > 1 ? [{ message: `${t.nodeGroups.length} node groups` }] : []),
  };

  test('run beside the pack, reported like its own', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    new Instance(stack, 'small', {
      ami: 'ami-1', instanceType: 't2.micro', metadataOptions: { httpTokens: 'required' }, rootBlockDevice: { encrypted: true },
    });
    applyPolicyPack(stack, { rules: [...POLICY_RULES, new NoT2Micro(), oneGroupOnly] });
    const reports = evaluateTerraformJson(JSON.parse(Testing.synth(stack)), {
      topology: resolveFleet(ledgerFleet(), 'ledger/Ledger', 'ledger').topology, rules: [new NoT2Micro(), oneGroupOnly],
    });
    expect(annotationsOf(stack).map((a) => `${a.level} ${a.path} ${a.text}`)).toEqual([
      'warning stack/small [ACME-001] Burstable machine: instance_type is t2.micro. Fix: use an m6i or larger machine',
    ]);
    expect(reports.map((r) => r.text)).toEqual([
      '[ACME-001] Burstable machine: instance_type is t2.micro. Fix: use an m6i or larger machine',
      '[ACME-002] Several node groups: 3 node groups. Fix: split the fleet',
    ]);
  });
});
