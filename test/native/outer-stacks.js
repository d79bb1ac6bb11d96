/**
 * Loaded by Node's own require (test/native/modules.js), so this runs in the jest worker's realm, where cdktf runs in
 * the tests: test/setup.ts's plain stacks for cdktf's creation stacks, for that realm. jest's source-map-support maps
 * each frame of every capture there; a capture on a plain object (cdktf's, for each token) gets V8's plain format,
 * and errors keep the mapped stacks. Once per worker.
 */
const mapped = Error.prepareStackTrace;
if (mapped !== undefined && !mapped.dpgPlainCaptures) {
  const plain = (target, frames) => (target instanceof Error ? mapped(target, frames) : `${String(target)}${frames.map((f) => `\n    at ${f}`).join('')}`);
  plain.dpgPlainCaptures = true;
  Error.prepareStackTrace = plain;
}
