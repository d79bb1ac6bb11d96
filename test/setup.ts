// (cdktf's jest matchers, Testing.setupJest(), are not used here: loading cdktf in every test file cost time even where
// a test never builds a stack.)

// cdktf records a creation stack for every token it makes (Error.captureStackTrace on a plain object, thousands per
// stack). Jest's source-map-support maps each frame of those through inline source maps, which made stack capture a
// quarter of a whole-stack synth in the tests; outside jest (`cdktf synth`, the bench) V8 formats them plainly. Give
// such captures V8's plain format here too; real errors (instances of Error) keep jest's mapped stacks.
const mapped = Error.prepareStackTrace;
if (mapped !== undefined) {
  Error.prepareStackTrace = (target, frames) => (target instanceof Error ? mapped(target, frames) : `${String(target)}${frames.map((f) => `\n    at ${f}`).join('')}`);
}

export {};
