/**
 * The reference stacks (stacks/main.ts) pass the policy pack with zero findings: every resource the cloud
 * constructs create, and every fleet topology, checked by the same Aspect users apply.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import {
  DefaultTokenResolver, Fn, Lazy, StringConcat, TerraformElement, TerraformIterator, TerraformOutput, TerraformStack, TerraformVariable, Testing, Token,
  Tokenization,
} from 'cdktf';
import { DistributedPostgres } from '../../lib';
import { applyPolicyPack, evaluateTerraformJson } from '../../lib/policy';
import { resolved } from '../../lib/policy/pack';
import { buildApp } from '../../stacks/main';
import { annotationsOf } from './helpers';

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-reference-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
const app = buildApp(outdir);
applyPolicyPack(app);
const stacks = app.node.children.filter((c): c is TerraformStack => TerraformStack.isStack(c));

test('there are reference stacks with fleets in them', () => {
  expect(stacks.map((s) => s.node.id)).toEqual(expect.arrayContaining(['ledger', 'rehearsal']));
  for (const stack of stacks) expect(stack.node.findAll().some((c) => c instanceof DistributedPostgres)).toBe(true);
});

describe.each(stacks.map((s) => [s.node.id, s] as const))('%s', (_id, stack) => {
  test('synthesizes with validations and no policy finding', () => {
    const json = JSON.parse(Testing.synth(stack, true));
    const findings = annotationsOf(stack).filter((a) => /^\[DPG-P\d{3}\]/.test(a.text) && a.level !== 'info');
    expect(findings.map((f) => `${f.path} ${f.text}`)).toEqual([]);
    const fleets = stack.node.findAll().filter((c): c is DistributedPostgres => c instanceof DistributedPostgres);
    for (const fleet of fleets) {
      expect(evaluateTerraformJson(json, { topology: fleet.topology }).map((r) => r.text)).toEqual([]);
    }
  });
});

/**
 * The pack resolves only the parts of an element that may hold a token (lib/policy/pack.ts `resolved`); what it checks
 * must be what `cdktf synth` writes: the same as cdktf's resolve of the whole fragment, for every element of the
 * reference stacks and for the kinds of token a hand-written stack uses.
 */
describe('the pack reads each element as cdktf resolves it', () => {
  const full = (e: TerraformElement) => Tokenization.resolve(e.toTerraform(), { scope: TerraformStack.of(e), preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });

  test.each(stacks.map((s) => [s.node.id, s] as const))('%s: every element', (_id, stack) => {
    const elements = stack.node.findAll().filter((c): c is TerraformElement => TerraformElement.isTerraformElement(c));
    expect(elements.length).toBeGreaterThan(50);
    for (const e of elements) expect([e.node.path, resolved(e)]).toEqual([e.node.path, full(e)]);
  });

  test('tokens of every kind: strings, numbers in strings, lists, maps, lazies, iterators, functions', () => {
    const stack = new TerraformStack(Testing.app(), 'tokens');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const vpc = new Vpc(stack, 'vpc', { cidrBlock: '10.0.0.0/16' });
    const count = Lazy.numberValue({ produce: () => 3 });
    const names = new TerraformVariable(stack, 'names', { type: 'list(string)' });
    const tags = new TerraformVariable(stack, 'tags', { type: 'map(string)' });
    const sgs = TerraformIterator.fromList(names.listValue);
    const sg = new SecurityGroup(stack, 'sg', {
      vpcId: vpc.id,
      name: `sg-${count}-${Fn.upper(vpc.id)}`,
      description: Lazy.stringValue({ produce: () => 'made late, e+1 is not a token' }),
      tags: tags.value,
      revokeRulesOnDelete: Token.asAny(Lazy.anyValue({ produce: () => true })) as unknown as boolean,
      ingress: [{ description: `port ${count}`, fromPort: count, toPort: Token.asNumber(Lazy.numberValue({ produce: () => 8 })), protocol: 'tcp', cidrBlocks: names.listValue }],
    });
    sg.addOverride('lifecycle.ignore_changes', ['tags']);
    new SecurityGroupRule(stack, 'rules', {
      forEach: sgs, type: 'ingress', fromPort: 1, toPort: 2, protocol: 'tcp', securityGroupId: sg.id, description: sgs.value,
      cidrBlocks: Fn.concat([names.listValue, ['10.1.0.0/16']]),
    });
    new TerraformOutput(stack, 'out', { value: { a: [vpc.id, count], b: Fn.lookup(tags.value, 'x', 'y') } });
    const elements = stack.node.findAll().filter((c): c is TerraformElement => TerraformElement.isTerraformElement(c));
    expect(elements.length).toBeGreaterThanOrEqual(6);
    for (const e of elements) expect([e.node.path, resolved(e)]).toEqual([e.node.path, full(e)]);
  });
});

test('what cdktf refuses to resolve, the pack refuses with the same error (the path in it aside)', () => {
  const full = (e: TerraformElement) => Tokenization.resolve(e.toTerraform(), { scope: TerraformStack.of(e), preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });
  const scope = new TerraformStack(Testing.app(), 'refused');
  const element = new TerraformOutput(scope, 'out', { value: 'x' });
  const cases: unknown[] = [{ a: () => 1 }, { nested: [{ f() { return 2; } }] }];
  for (const value of cases) {
    (element as unknown as { toTerraform: () => unknown }).toTerraform = () => ({ output: { out: { value } } });
    let message = '';
    try {
      full(element);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/function/i);
    const pathAside = (text: string) => text.replace(/ at '[^']*'/, ' at PATH');
    let packMessage = '';
    try {
      resolved(element);
    } catch (e) {
      packMessage = (e as Error).message;
    }
    expect(pathAside(packMessage)).toBe(pathAside(message));
  }
});
