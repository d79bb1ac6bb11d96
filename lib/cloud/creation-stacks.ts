/**
 * cdktf records a creation stack on every token it makes (`captureStackTrace` in cdktf's tokens: Error.stackTraceLimit
 * raised to the maximum, the trace formatted to a string and split into lines), for its message when a token cannot
 * be resolved. A token made deep inside this library's constructs keeps some 40 frames, most of them the same
 * construct calls; a 100-group fleet makes about 60,000 tokens, and their stacks were the largest part of its synth's
 * memory (README "Benchmark").
 *
 * While a fleet is built, such captures (plain objects, not Errors) keep their nearest frames only, which name the
 * line of this library that made the token. Errors keep the stack they always had: their formatting goes to whatever
 * formatter was there before (source-map-support under ts-node, jest's), or to V8's own format.
 */

/** Frames a creation stack keeps while a fleet is built. */
export const CREATION_STACK_FRAMES = 10;

type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/** Installs the short format; returns the function that puts the previous formatter back (call it in a `finally`). */
export function shortCreationStacks(): () => void {
  const previous: PrepareStackTrace | undefined = Error.prepareStackTrace;
  const short: PrepareStackTrace = (target, frames) => {
    if (target instanceof Error) return previous ? previous(target, frames) : `${target}${frames.map((f) => `\n    at ${f}`).join('')}`;
    return `${String(target)}${frames.slice(0, CREATION_STACK_FRAMES).map((f) => `\n    at ${f}`).join('')}`;
  };
  Error.prepareStackTrace = short;
  return () => {
    // Only our own: a formatter someone installed meanwhile (and did not remove) stays.
    if (Error.prepareStackTrace === short) Error.prepareStackTrace = previous;
  };
}
