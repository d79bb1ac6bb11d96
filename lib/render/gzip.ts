/**
 * Deterministic gzip for user-data. Node's zlib is Chromium's fork, whose match finder picks its hash by CPU
 * features, so its bytes can differ between machines; a changed user_data plans a stopped database machine.
 * fflate is a pure-JS DEFLATE (pinned exactly in package.json): the same input gives the same bytes everywhere.
 * The header is fixed: no file name, mtime 0. `mem: 2` (a 16 K-entry match hash, 32 KB; fflate's 8 allocates 2 MB per
 * call, and a 100-group fleet gzips 200 documents): the same bytes as `mem: 8` for every document of the reference
 * stacks (26 compared, 2026-11-27), 45 % less time, and 80 MB less peak RSS at 100 node groups.
 *
 * Level 9 in pure JS costs about 10 ms per scripts document, and a process that resolves a fleet again (the lock's
 * synth after validation, a second stack of the same groups, the tests: 1,800 calls for 1,000 distinct inputs, 16 s of
 * `npm test`'s CPU) gzips the same text again. So each output is kept by the SHA-256 of its input (a hash costs a few
 * per cent of the gzip), at most `GZIP_MEMO_BYTES` of outputs, least recently used first out; callers get a copy of
 * their own.
 */
import { createHash } from 'crypto';
import { gzipSync } from 'fflate';
import { TextMemo } from '../memo';

/** Inputs below this are gzipped each time (hashing would cost about what it saves). */
const MEMO_MIN_INPUT = 4096;
/** At most this many bytes of gzipped outputs are kept. */
export const GZIP_MEMO_BYTES = 8 * 1024 * 1024;
const memo = new TextMemo<Buffer>(GZIP_MEMO_BYTES, 64, (_key, out) => out.length);

export function gzipDeterministic(data: Uint8Array | string): Buffer {
  const input = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (input.length < MEMO_MIN_INPUT) return gzip(input);
  // The memo's copy stays its own: each caller gets a fresh one.
  return Buffer.from(memo.get(createHash('sha256').update(input).digest('base64'), () => gzip(input)));
}

function gzip(input: Uint8Array): Buffer {
  return Buffer.from(gzipSync(input, { level: 9, mem: 2, mtime: 0 }));
}
