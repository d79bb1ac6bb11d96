/**
 * Deterministic gzip for user-data. Node's zlib is Chromium's fork, whose match finder picks its hash by CPU
 * features, so its bytes can differ between machines; a changed user_data plans a stopped database machine.
 * fflate is a pure-JS DEFLATE (pinned exactly in package.json): the same input gives the same bytes everywhere.
 * The header is fixed: no file name, mtime 0.
 */
import { gzipSync } from 'fflate';

export function gzipDeterministic(data: Uint8Array | string): Buffer {
  const input = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.from(gzipSync(input, { level: 9, mem: 8, mtime: 0 }));
}
