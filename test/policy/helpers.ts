/** Small stacks for policy tests: build resources with provider classes, run the pack, read what it reported. */
import { AnnotationMetadataEntryType, App, TerraformStack, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { applyPolicyPack } from '../../lib/policy';

export interface Reported {
  readonly level: 'error' | 'warning' | 'info';
  readonly path: string;
  readonly text: string;
}

const LEVELS: Record<string, Reported['level']> = {
  [AnnotationMetadataEntryType.ERROR]: 'error',
  [AnnotationMetadataEntryType.WARN]: 'warning',
  [AnnotationMetadataEntryType.INFO]: 'info',
};

/** Every annotation under a scope. */
export function annotationsOf(scope: IConstruct): Reported[] {
  return scope.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => LEVELS[m.type] !== undefined)
    .map((m) => ({ level: LEVELS[m.type], path: c.node.path, text: String(m.data) })));
}

/** A stack with AWS and Google providers. */
export function newStack(id = 'stack'): { app: App; stack: TerraformStack } {
  const app = Testing.app();
  const stack = new TerraformStack(app, id);
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  new GoogleProvider(stack, 'google', { project: 'p', region: 'europe-west3' });
  return { app, stack };
}

/**
 * Builds resources in a fresh stack, applies the pack, runs aspects (Testing.synth), and returns what the
 * pack reported for one rule id (texts prefixed `[ID]`), by level.
 */
export function findingsFor(ruleId: string, build: (stack: TerraformStack) => void): { errors: string[]; warnings: string[]; all: Reported[] } {
  const { stack } = newStack();
  build(stack);
  applyPolicyPack(stack);
  Testing.synth(stack);
  const all = annotationsOf(stack).filter((a) => a.text.startsWith(`[${ruleId}]`));
  return {
    errors: all.filter((a) => a.level === 'error').map((a) => a.text),
    warnings: all.filter((a) => a.level === 'warning').map((a) => a.text),
    all,
  };
}
