/** Tokens made while a fleet is built keep short creation stacks; errors keep theirs; the formatter is put back. */
import { App, TerraformStack, Tokenization } from 'cdktf';
import { captureStackTrace } from 'cdktf/lib/tokens/private/stack-trace';
import { CREATION_STACK_FRAMES, shortCreationStacks } from '../../lib/cloud/creation-stacks';
import { DistributedPostgres } from '../../lib';
import { ledgerFleet } from '../fixtures/fleets';
import { fleetStack } from '../stacks/helpers';

function deep(n: number, at: () => string[]): string[] {
  return n === 0 ? at() : deep(n - 1, at);
}

test('inside: a capture on a plain object keeps the nearest frames; an Error keeps its whole stack', () => {
  const before = Error.prepareStackTrace;
  const full = deep(40, () => captureStackTrace());
  expect(full.length).toBeGreaterThan(40);
  const restore = shortCreationStacks();
  try {
    const short = deep(40, () => captureStackTrace());
    expect(short).toHaveLength(CREATION_STACK_FRAMES);
    // The nearest frames: this file's.
    expect(short[0]).toContain('creation-stacks.test.ts');
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 100;
    try {
      const error = deep(40, () => (new Error('boom').stack ?? '').split('\n'));
      expect(error[0]).toBe('Error: boom');
      expect(error.length).toBeGreaterThan(40);
    } finally {
      Error.stackTraceLimit = limit;
    }
  } finally {
    restore();
  }
  expect(Error.prepareStackTrace).toBe(before);
});

test('a fleet built: tokens made in it have short stacks, and the formatter is the one before', () => {
  const before = Error.prepareStackTrace;
  const { fleet } = fleetStack(ledgerFleet());
  expect(Error.prepareStackTrace).toBe(before);
  // A token of the fleet's: its creation stack (cdktf's Intrinsic keeps it) starts inside this library.
  const role = fleet.node.findAll().find((c) => (c as any).terraformResourceType === 'aws_iam_role') as any;
  // (assume.json, made while the fleet was built; role.arn would be made now, outside)
  const token = Tokenization.reverseString(role.assumeRolePolicyInput).tokens[0] as any;
  expect(token.creationStack.join('\n')).toContain('identity');
  expect(token.creationStack.length).toBeLessThanOrEqual(CREATION_STACK_FRAMES);
});

test('a fleet refused at validation puts the formatter back too', () => {
  const before = Error.prepareStackTrace;
  const stack = new TerraformStack(new App(), 'test');
  expect(() => new DistributedPostgres(stack, 'bad', { ...ledgerFleet(), nodeGroups: [] })).toThrow();
  expect(Error.prepareStackTrace).toBe(before);
});
