/**
 * cdktf records a creation stack on every token it makes (`captureStackTrace` in cdktf's tokens: Error.stackTraceLimit
 * raised to the maximum, the trace formatted to a string and split into lines), only for its message when that token
 * cannot be resolved. A 100-group fleet makes about 60,000 tokens inside this library's constructs; capturing their
 * stacks was an eighth of its synth time (V8 builds and formats the frames at each capture) and, held, the largest
 * part of its memory (README "Benchmark"). A token this library makes from its own topology failing to resolve is a
 * bug of the library, which its message's attribute path already locates.
 *
 * So while a fleet is built, cdktf's capture records no frames: its module's `captureStackTrace` is swapped (cdktf's
 * callers look it up on the module at each call) and put back after. Tokens the user made outside keep theirs, and
 * Errors are not touched. `DPG_CREATION_STACKS=N` keeps the N nearest frames instead (7 reach the line of this library
 * that made the token) and `DPG_CREATION_STACKS=full` leaves cdktf's capture alone, to debug the library. Where that
 * module is not there (another cdktf layout, a bundle), captures keep their nearest frames through the stack formatter,
 * which saves the memory but not the time.
 */

/** Frames a creation stack keeps while a fleet is built, unless `DPG_CREATION_STACKS` says otherwise. */
export const CREATION_STACK_FRAMES = 0;

/** Frames to keep (`DPG_CREATION_STACKS`: a number, or `full` for cdktf's own capture), read at each fleet. */
export function creationStackFrames(): number | 'full' {
  const setting = (process.env.DPG_CREATION_STACKS ?? '').trim();
  if (setting === 'full') return 'full';
  return /^\d+$/.test(setting) ? Number(setting) : CREATION_STACK_FRAMES;
}

type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Capture = (below?: Function) => string[];

/** cdktf's module of the capture (`cdktf/lib/tokens/private/stack-trace`), when it is where cdktf 0.21 has it. */
function cdktfCaptureModule(): { captureStackTrace: Capture } | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const found = require('cdktf/lib/tokens/private/stack-trace') as { captureStackTrace?: unknown };
    const writable = Object.getOwnPropertyDescriptor(found, 'captureStackTrace')?.writable === true;
    return typeof found.captureStackTrace === 'function' && writable ? found as { captureStackTrace: Capture } : undefined;
  } catch {
    return undefined;
  }
}

/** cdktf's capture with the `frames` nearest frames only (the same lines as cdktf's, fewer of them). */
function nearestFrames(frames: number): Capture {
  if (frames === 0) return () => [];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  const capture = (below?: Function): string[] => {
    const holder = { stack: '' };
    const limit = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = frames;
      Error.captureStackTrace(holder, below ?? capture);
    } finally {
      Error.stackTraceLimit = limit;
    }
    return holder.stack ? holder.stack.split('\n').slice(1).map((s) => s.replace(/^\s*at\s+/, '')) : [];
  };
  return capture;
}

/** Installs the short stacks; returns the function that puts the previous state back (call it in a `finally`). */
export function shortCreationStacks(frames: number | 'full' = creationStackFrames()): () => void {
  if (frames === 'full') return () => undefined;
  const cdktf = cdktfCaptureModule();
  if (!cdktf) return shortFormattedStacks(frames);
  const previous = cdktf.captureStackTrace;
  const short = nearestFrames(frames);
  cdktf.captureStackTrace = short;
  return () => {
    // Only our own: a capture someone installed meanwhile (and did not remove) stays.
    if (cdktf.captureStackTrace === short) cdktf.captureStackTrace = previous;
  };
}

/** The fallback: captures on plain objects (not Errors) are formatted with their `frames` nearest frames only. */
export function shortFormattedStacks(frames: number): () => void {
  const previous: PrepareStackTrace | undefined = Error.prepareStackTrace;
  const short: PrepareStackTrace = (target, callSites) => {
    if (target instanceof Error) return previous ? previous(target, callSites) : `${target}${callSites.map((f) => `\n    at ${f}`).join('')}`;
    return `${String(target)}${callSites.slice(0, frames).map((f) => `\n    at ${f}`).join('')}`;
  };
  Error.prepareStackTrace = short;
  return () => {
    // Only our own: a formatter someone installed meanwhile (and did not remove) stays.
    if (Error.prepareStackTrace === short) Error.prepareStackTrace = previous;
  };
}
