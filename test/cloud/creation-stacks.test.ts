/**
 * Tokens made while a fleet is built carry no creation stack (or the nearest frames, or cdktf's own, as
 * DPG_CREATION_STACKS says); errors keep theirs; cdktf's capture and the stack formatter are put back.
 */
import { App, TerraformStack, Tokenization } from 'cdktf';
import * as cdktfStackTrace from 'cdktf/lib/tokens/private/stack-trace';
import { captureStackTrace } from 'cdktf/lib/tokens/private/stack-trace';
import { CREATION_STACK_FRAMES, creationStackFrames, shortCreationStacks, shortFormattedStacks } from '../../lib/cloud/creation-stacks';
import { DistributedPostgres } from '../../lib';
import { ledgerFleet } from '../fixtures/fleets';
import { fleetStack } from '../stacks/helpers';

function deep(n: number, at: () => string[]): string[] {
  return n === 0 ? at() : deep(n - 1, at);
}

function withSetting<T>(value: string | undefined, run: () => T): T {
  const before = process.env.DPG_CREATION_STACKS;
  if (value === undefined) delete process.env.DPG_CREATION_STACKS;
  else process.env.DPG_CREATION_STACKS = value;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.DPG_CREATION_STACKS;
    else process.env.DPG_CREATION_STACKS = before;
  }
}

test('the setting: none by default, a number of frames, or full', () => {
  expect(CREATION_STACK_FRAMES).toBe(0);
  expect(withSetting(undefined, creationStackFrames)).toBe(0);
  expect(withSetting('7', creationStackFrames)).toBe(7);
  expect(withSetting(' full ', creationStackFrames)).toBe('full');
  expect(withSetting('lots', creationStackFrames)).toBe(0);
});

/**
 * cdktf's capture as it is written (a plain object, the limit raised), made in this file's realm: the fallback
 * formatter acts on the captures of the realm it is installed in, and the tests load cdktf outside jest's
 * (test/native/modules.js), as Node does outside the tests.
 */
function captureHere(): string[] {
  const holder = { stack: '' };
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = Number.MAX_SAFE_INTEGER;
    Error.captureStackTrace(holder, captureHere);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return holder.stack ? holder.stack.split('\n').slice(1).map((s) => s.replace(/^\s*at\s+/, '')) : [];
}

test.each([
  ['cdktf\'s capture swapped, no frames', () => shortCreationStacks(0), 0, true, () => captureStackTrace()],
  ['cdktf\'s capture swapped, 5 frames', () => shortCreationStacks(5), 5, true, () => captureStackTrace()],
  ['the fallback formatter, 5 frames', () => shortFormattedStacks(5), 5, false, captureHere],
])('inside (%s): a capture keeps the nearest frames only; an Error keeps its whole stack', (_how, install, frames, swaps, take) => {
  const before = Error.prepareStackTrace;
  const capture = cdktfStackTrace.captureStackTrace;
  const full = deep(40, take);
  expect(full.length).toBeGreaterThan(40);
  const restore = install();
  // cdktf 0.21's module is where the swap looks for it (else the fallback would run and no time would be saved).
  if (swaps) expect(cdktfStackTrace.captureStackTrace).not.toBe(capture);
  try {
    const short = deep(40, take);
    expect(short).toHaveLength(frames);
    // The nearest frames: this file's.
    if (frames > 0) expect(short[0]).toContain('creation-stacks.test.ts');
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
  expect(cdktfStackTrace.captureStackTrace).toBe(capture);
  expect(deep(40, take).length).toBeGreaterThan(40);
});

test('full: cdktf\'s capture is left alone', () => {
  const capture = cdktfStackTrace.captureStackTrace;
  const restore = shortCreationStacks('full');
  expect(cdktfStackTrace.captureStackTrace).toBe(capture);
  expect(deep(40, () => captureStackTrace()).length).toBeGreaterThan(40);
  restore();
  expect(cdktfStackTrace.captureStackTrace).toBe(capture);
});

/** The creation stack of a token the fleet made while it was built (its role's assume-role policy: assume.json). */
function fleetTokenStack(setting: string | undefined): string[] {
  const before = Error.prepareStackTrace;
  const capture = cdktfStackTrace.captureStackTrace;
  const { fleet } = withSetting(setting, () => fleetStack(ledgerFleet()));
  expect(Error.prepareStackTrace).toBe(before);
  expect(cdktfStackTrace.captureStackTrace).toBe(capture);
  const role = fleet.node.findAll().find((c) => (c as any).terraformResourceType === 'aws_iam_role') as any;
  // (role.arn would be made now, outside the fleet: assume.json was made inside)
  return (Tokenization.reverseString(role.assumeRolePolicyInput).tokens[0] as any).creationStack;
}

test('a fleet built: its tokens carry no creation stack, and the capture and formatter are the ones before', () => {
  expect(fleetTokenStack(undefined)).toEqual([]);
});

test('DPG_CREATION_STACKS=7: a fleet\'s tokens name the line of the library that made them', () => {
  const stack = fleetTokenStack('7');
  expect(stack).toHaveLength(7);
  expect(stack.join('\n')).toContain('identity');
});

test('DPG_CREATION_STACKS=full: a fleet\'s tokens carry cdktf\'s whole stack', () => {
  expect(fleetTokenStack('full').length).toBeGreaterThan(10);
});

test('a fleet refused at validation puts the capture and formatter back too', () => {
  const before = Error.prepareStackTrace;
  const capture = cdktfStackTrace.captureStackTrace;
  const stack = new TerraformStack(new App(), 'test');
  expect(() => new DistributedPostgres(stack, 'bad', { ...ledgerFleet(), nodeGroups: [] })).toThrow();
  expect(Error.prepareStackTrace).toBe(before);
  expect(cdktfStackTrace.captureStackTrace).toBe(capture);
});
